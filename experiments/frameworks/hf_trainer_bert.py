"""A Hugging Face ``Trainer`` script as the Transformers docs write one: a tiny BERT classifier.

Nothing in it knows of Ray or raytune_hpo. The model is a randomly initialised two-layer
``BertForSequenceClassification``; the data are synthetic "reviews" that are already token ids
(neutral words around three cue words; the label says whether most cues are positive), so no
tokenizer, data set or weights are downloaded. With ``eval_strategy="epoch"`` the ``Trainer``
prints each epoch's evaluation as a Python dict, ``{'eval_loss': '0.6935', ..., 'epoch': '1'}``,
which ``configs/frameworks/hf_trainer_asha.yaml`` reads.

Run it alone: ``python hf_trainer_bert.py --learning_rate 3e-3 --num_train_epochs 2``.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.utils.data import Dataset
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    EvalPrediction,
    Trainer,
    TrainingArguments,
    set_seed,
)

VOCAB_SIZE = 100
"""Token ids: 0 [PAD], 1 [CLS], 2 [SEP], 3-12 positive words, 13-22 negative words, the rest
neutral."""
CLS, SEP = 1, 2
POSITIVE, NEGATIVE, NEUTRAL = range(3, 13), range(13, 23), range(23, VOCAB_SIZE)


def make_reviews(size: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic reviews: neutral words with three cue words; label 1 when most are positive."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size)
    words = rng.choice(NEUTRAL, size=(size, length))
    for row, label in enumerate(labels):
        majority, minority = (POSITIVE, NEGATIVE) if label else (NEGATIVE, POSITIVE)
        cues = [rng.choice(majority), rng.choice(majority), rng.choice(minority)]
        words[row, rng.choice(length, size=3, replace=False)] = cues
    input_ids = np.concatenate([np.full((size, 1), CLS), words, np.full((size, 1), SEP)], axis=1)
    return input_ids, labels


class ReviewDataset(Dataset):
    """Token ids and labels as the ``Trainer`` expects them: one dict per example."""

    def __init__(self, input_ids: np.ndarray, labels: np.ndarray) -> None:
        self.input_ids = torch.tensor(input_ids, dtype=torch.long)
        self.labels = torch.tensor(labels, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {
            "input_ids": self.input_ids[index],
            "attention_mask": torch.ones_like(self.input_ids[index]),
            "labels": self.labels[index],
        }


def compute_metrics(prediction: EvalPrediction) -> dict[str, float]:
    """Accuracy of the evaluation split."""
    predicted = np.argmax(prediction.predictions, axis=-1)
    return {"accuracy": float((predicted == prediction.label_ids).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description="Train a tiny BERT classifier with Trainer.")
    parser.add_argument("--learning_rate", type=float, default=3e-3)
    parser.add_argument("--per_device_train_batch_size", type=int, default=16)
    parser.add_argument("--weight_decay", type=float, default=0.0)
    parser.add_argument("--num_train_epochs", type=int, default=5)
    parser.add_argument("--hidden_size", type=int, default=32)
    parser.add_argument("--train_size", type=int, default=1000)
    parser.add_argument("--sentence_length", type=int, default=8)
    parser.add_argument("--output_dir", default="bert_reviews")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    set_seed(args.seed)
    train_ids, train_labels = make_reviews(args.train_size, args.sentence_length, seed=0)
    eval_ids, eval_labels = make_reviews(300, args.sentence_length, seed=1)
    config = BertConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=args.hidden_size,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * args.hidden_size,
        max_position_embeddings=args.sentence_length + 2,
        num_labels=2,
    )
    model = BertForSequenceClassification(config)

    training_args = TrainingArguments(
        output_dir=args.output_dir,
        learning_rate=args.learning_rate,
        per_device_train_batch_size=args.per_device_train_batch_size,
        per_device_eval_batch_size=128,
        num_train_epochs=args.num_train_epochs,
        weight_decay=args.weight_decay,
        eval_strategy="epoch",
        logging_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=1,
        report_to="none",
        use_cpu=True,
        seed=args.seed,
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=ReviewDataset(train_ids, train_labels),
        eval_dataset=ReviewDataset(eval_ids, eval_labels),
        compute_metrics=compute_metrics,
    )
    trainer.train()


if __name__ == "__main__":
    main()
