"""A Hugging Face ``Trainer`` script as the Transformers docs write one: a tiny BERT classifier.

Nothing in it knows of Ray or raytune_hpo. The model is a randomly initialised two-layer
``BertForSequenceClassification``; the data are synthetic "reviews" that are already token ids
(neutral words around three cue words; the label says whether most cues are positive), so no
tokenizer, data set or weights are downloaded. With ``eval_strategy="epoch"`` the ``Trainer``
prints each epoch's evaluation as a Python dict, ``{'eval_loss': '0.6935', ..., 'epoch': '1'}``,
which ``configs/frameworks/hf_trainer_asha.yaml`` reads; with ``logging_strategy="epoch"`` it
prints the training loss and the ``learning_rate`` in force at the end of each epoch too.

When ``$RAYTUNE_HPO_CHECKPOINT_DIR`` names a folder (a tuner's state folder for this run), it is
the ``output_dir``: the ``Trainer`` saves ``checkpoint-<step>/`` there after each epoch's
evaluation (``save_strategy="epoch"``, only the newest kept), and a run that finds one there
resumes from it (``trainer.train(resume_from_checkpoint=...)``), with this run's
``--learning_rate`` (:class:`ApplyLearningRate`), so that a new learning rate, such as a PBT
exploit's, is in force. The ``Trainer`` prints an epoch's evaluation before it saves the epoch.

Run it alone: ``python hf_trainer_bert.py --learning_rate 3e-3 --num_train_epochs 2``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    EvalPrediction,
    Trainer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_utils import get_last_checkpoint

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


class ApplyLearningRate(TrainerCallback):
    """Puts this run's ``learning_rate`` in force when training resumes from a checkpoint.

    ``resume_from_checkpoint`` restores the optimizer and the learning-rate schedule as they
    were saved, the old learning rate included, before ``on_train_begin``. Here the schedule
    (the ``Trainer``'s ``LambdaLR``, linear decay by default) is given this run's learning rate
    as its base, and the optimizer the rate of the step the schedule stands at. On a fresh start
    this changes nothing.
    """

    def on_train_begin(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        optimizer: torch.optim.Optimizer | None = None,
        lr_scheduler: torch.optim.lr_scheduler.LambdaLR | None = None,
        **kwargs: Any,
    ) -> None:
        if optimizer is None or lr_scheduler is None:
            return
        lr_scheduler.base_lrs = [args.learning_rate] * len(optimizer.param_groups)
        for group, factor in zip(optimizer.param_groups, lr_scheduler.lr_lambdas, strict=True):
            group["initial_lr"] = args.learning_rate
            group["lr"] = args.learning_rate * factor(lr_scheduler.last_epoch)


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

    # A tuner that runs the script names a folder for its state: the checkpoints go there.
    state_dir = os.environ.get("RAYTUNE_HPO_CHECKPOINT_DIR")
    training_args = TrainingArguments(
        output_dir=state_dir or args.output_dir,
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
        callbacks=[ApplyLearningRate()],
    )
    last_checkpoint = get_last_checkpoint(state_dir) if state_dir else None
    trainer.train(resume_from_checkpoint=last_checkpoint)


if __name__ == "__main__":
    main()
