"""A Keras 3 script as Keras's docs write one: a small dense network on scikit-learn's digits.

Nothing in it knows of Ray or raytune_hpo. Keras runs on PyTorch here (``KERAS_BACKEND``, set
before Keras is imported, as Keras's docs set it). ``keras.callbacks.TensorBoard(log_dir)``
writes each epoch's metrics as TensorBoard event files, the training ones under
``<log_dir>/train/`` and the validation ones under ``<log_dir>/validation/``, both with the same
tags (``epoch_loss``, ``epoch_accuracy``); ``configs/frameworks/keras_asha.yaml`` reads
``validation/epoch_loss`` from there. The callback needs TensorFlow installed for its writer,
whatever the backend.

Run it alone: ``python keras_digits.py --learning_rate 0.01 --epochs 3``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402 (the backend is chosen before the import)
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402


def build_model(units: int, dropout: float, learning_rate: float) -> keras.Model:
    """A two-layer perceptron over the 64 pixels of an 8x8 digit, compiled with Adam."""
    model = keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--log_dir", default="logs", help="where TensorBoard files go")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    images, labels = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        (images / 16.0).astype("float32"), labels, test_size=0.25, random_state=0
    )
    model = build_model(args.units, args.dropout, args.learning_rate)
    model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_data=(x_val, y_val),
        callbacks=[keras.callbacks.TensorBoard(log_dir=args.log_dir)],
        verbose=2,
    )


if __name__ == "__main__":
    main()
