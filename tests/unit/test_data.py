"""Tests of raytune_hpo.data: digits offline, torchvision data sets from hand-written IDX files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from raytune_hpo.data import DATASETS, DatasetArrays, DatasetNotFoundError, load_dataset

N_TRAIN, N_TEST = 50, 20
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> DatasetArrays:
    return load_dataset("digits", tmp_path_factory.mktemp("data"))


def _write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the big-endian IDX format that MNIST uses."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def _write_fake_raw(data_dir: Path, folder: str) -> dict[str, np.ndarray]:
    """Write tiny random train and test IDX files in torchvision's raw layout."""
    rng = np.random.default_rng(123)
    arrays = {
        "train_x": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train_y": rng.integers(0, 10, N_TRAIN, dtype=np.uint8),
        "test_x": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "test_y": rng.integers(0, 10, N_TEST, dtype=np.uint8),
    }
    raw = data_dir / folder / "raw"
    raw.mkdir(parents=True)
    for file, key in zip(RAW_FILES, arrays, strict=True):
        _write_idx(raw / file, arrays[key])
    return arrays


def test_registry_names() -> None:
    assert sorted(DATASETS) == ["digits", "fashion_mnist", "mnist"]


def test_unknown_name_lists_known_names(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"unknown data set 'nope'; known: digits, fashion_mnist, mnist"
    ):
        load_dataset("nope", tmp_path)


def test_digits_shapes_dtypes_and_range(digits: DatasetArrays) -> None:
    assert digits.num_classes == 10
    assert len(digits.y_train) + len(digits.y_val) + len(digits.y_test) == 1797
    for x, y in [
        (digits.x_train, digits.y_train),
        (digits.x_val, digits.y_val),
        (digits.x_test, digits.y_test),
    ]:
        assert x.shape == (len(y), 1, 28, 28)
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.flags.c_contiguous and y.flags.c_contiguous
        assert x.min() >= 0.0 and x.max() <= 1.0
    assert set(np.unique(digits.y_train)) == set(range(10))
    assert digits.x_train.max() == pytest.approx(1.0)
    assert len(digits.y_test) == 359
    assert len(digits.y_val) == round(0.1 * (1797 - 359))


def test_digits_nbytes(digits: DatasetArrays) -> None:
    arrays = [digits.x_train, digits.y_train, digits.x_val, digits.y_val]
    arrays += [digits.x_test, digits.y_test]
    assert digits.nbytes == sum(a.nbytes for a in arrays)


def _rows(x: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in x}


def test_validation_is_held_out_from_train(tmp_path: Path) -> None:
    data = load_dataset("digits", tmp_path, val_fraction=0.25, seed=3)
    other = load_dataset("digits", tmp_path, val_fraction=0.25, seed=4)
    train, val, test = _rows(data.x_train), _rows(data.x_val), _rows(data.x_test)
    assert train.isdisjoint(val)
    # Validation comes from the training split: train + val is the same pool for every seed.
    assert train | val == _rows(other.x_train) | _rows(other.x_val)
    assert val != _rows(other.x_val)
    assert len(data.y_val) == round(0.25 * (len(data.y_train) + len(data.y_val)))
    # The few digits that are exact duplicates may appear on both sides of the fixed split.
    assert len(test & (train | val)) < 5


def test_test_split_does_not_depend_on_seed(tmp_path: Path) -> None:
    a = load_dataset("digits", tmp_path, seed=0, test_size=100)
    b = load_dataset("digits", tmp_path, seed=1, test_size=100)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_train, b.y_train)


def test_same_seed_same_arrays(tmp_path: Path) -> None:
    a = load_dataset("digits", tmp_path, seed=7)
    b = load_dataset("digits", tmp_path, seed=7)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)


def test_subset_sizes_honoured(tmp_path: Path, digits: DatasetArrays) -> None:
    data = load_dataset("digits", tmp_path, train_size=64, test_size=32, val_fraction=0.001)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (64, 1, 32)
    assert data.x_train.shape == (64, 1, 28, 28)
    assert _rows(data.x_test) <= _rows(digits.x_test)


@pytest.mark.parametrize(
    "kwargs",
    [{"train_size": 0}, {"train_size": 10**6}, {"test_size": 10**6}, {"val_fraction": 1.0}],
)
def test_bad_sizes_rejected(tmp_path: Path, kwargs: dict[str, float]) -> None:
    key = next(iter(kwargs))
    with pytest.raises(ValueError, match=key):
        load_dataset("digits", tmp_path, **kwargs)


def test_data_dir_expanded_and_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    load_dataset("digits", "~/nested/data", train_size=8, test_size=8)
    assert (tmp_path / "nested" / "data").is_dir()


def test_data_dir_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ValueError, match=str(blocker / "sub")):
        load_dataset("digits", blocker / "sub")


@pytest.mark.parametrize("name", sorted(TORCHVISION_FOLDERS))
def test_torchvision_round_trip(tmp_path: Path, name: str) -> None:
    raw = _write_fake_raw(tmp_path, TORCHVISION_FOLDERS[name])
    data = load_dataset(name, tmp_path, download=False, val_fraction=0.2)

    assert data.num_classes == 10
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (40, 10, N_TEST)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    # The test split keeps torchvision's order when it is not cut.
    np.testing.assert_array_equal(data.x_test[:, 0], raw["test_x"].astype(np.float32) / 255)
    np.testing.assert_array_equal(data.y_test, raw["test_y"])
    # Train and validation are a shuffle of the train file: match each image to its original.
    originals = {image.tobytes(): i for i, image in enumerate(raw["train_x"])}
    x = np.concatenate([data.x_train, data.x_val])[:, 0]
    y = np.concatenate([data.y_train, data.y_val])
    index = [originals[(image * 255).round().astype(np.uint8).tobytes()] for image in x]
    assert sorted(index) == list(range(N_TRAIN))
    np.testing.assert_array_equal(x, raw["train_x"][index].astype(np.float32) / 255)
    np.testing.assert_array_equal(y, raw["train_y"][index])


@pytest.mark.parametrize("name", sorted(TORCHVISION_FOLDERS))
def test_missing_files_without_download(tmp_path: Path, name: str) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset(name, tmp_path, download=False)
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path) in message and "digits" in message
    assert str(tmp_path / TORCHVISION_FOLDERS[name] / "raw") in message
    assert all(file in message for file in RAW_FILES)


def test_failed_download_becomes_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision.datasets import MNIST

    def offline(self: MNIST) -> None:
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nno network")

    monkeypatch.setattr(MNIST, "download", offline)
    with pytest.raises(DatasetNotFoundError, match="download failed.*no network.*digits"):
        load_dataset("mnist", tmp_path, download=True)
