"""Inception score, and its classifier: trained once per data set, cached, reused."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from raytune_hpo.demos import inception_score as metrics
from raytune_hpo.demos.datasets import DatasetArrays, load_dataset


@pytest.fixture(scope="module")
def cache_runs(data_dir: Path) -> dict[str, object]:
    """Two threads ask for the digits classifier at once on an empty cache, then a third call.

    Uses the session's data directory, so later tests (and trials) reuse the trained file.
    """
    metrics.classifier_path("digits", data_dir).unlink(missing_ok=True)
    results: list[metrics.CachedClassifier] = []

    def load() -> None:
        results.append(metrics.load_classifier("digits", data_dir))

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    path = metrics.classifier_path("digits", data_dir)
    mtime = path.stat().st_mtime_ns
    again = metrics.load_classifier("digits", data_dir)
    return {"first": results, "mtime": mtime, "again": again, "path": path}


@pytest.fixture(scope="module")
def digits(data_dir: Path) -> DatasetArrays:
    return load_dataset("digits", data_dir, seed=0)


def _one_per_class(data: DatasetArrays, per_class: int) -> torch.Tensor:
    index = np.concatenate(
        [np.flatnonzero(data.y_test == c)[:per_class] for c in range(data.num_classes)]
    )
    return torch.from_numpy(data.x_test[index])


def test_concurrent_callers_train_the_classifier_once(cache_runs: dict) -> None:
    first = cache_runs["first"]
    assert len(first) == 2
    assert sorted(r.trained for r in first) == [False, True]
    assert all(r.path == cache_runs["path"] for r in first)
    assert first[0].test_accuracy > 0.9


def test_the_cached_classifier_is_reused_not_retrained(cache_runs: dict) -> None:
    again: metrics.CachedClassifier = cache_runs["again"]
    assert not again.trained
    assert cache_runs["path"].stat().st_mtime_ns == cache_runs["mtime"]
    trained = next(r for r in cache_runs["first"] if r.trained)
    for name, tensor in trained.model.state_dict().items():
        assert torch.equal(tensor, again.model.state_dict()[name]), name


def test_cache_is_keyed_by_data_set(data_dir: Path) -> None:
    assert metrics.classifier_path("digits", data_dir) != metrics.classifier_path("mnist", data_dir)
    assert metrics.classifier_path("digits", data_dir).parent == data_dir / metrics.CLASSIFIER_DIR


def test_score_of_probabilities_spans_one_to_the_number_of_classes() -> None:
    eye = torch.eye(10)
    assert metrics.inception_score(eye) == pytest.approx(10.0)
    assert metrics.inception_score(eye[[3] * 10]) == pytest.approx(1.0)
    assert metrics.inception_score(torch.full((8, 10), 0.1)) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [torch.ones(3), torch.ones(0, 10)])
def test_score_rejects_what_is_not_a_batch_of_probabilities(bad: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="shape"):
        metrics.inception_score(bad)


def test_a_perfect_batch_scores_close_to_the_number_of_classes(
    cache_runs: dict, digits: DatasetArrays
) -> None:
    model = cache_runs["again"].model
    for per_class in (1, 10):
        score = metrics.score_images(model, _one_per_class(digits, per_class))
        assert 0.85 * digits.num_classes < score <= digits.num_classes, (per_class, score)


def test_a_one_class_batch_scores_close_to_one(cache_runs: dict, digits: DatasetArrays) -> None:
    model = cache_runs["again"].model
    threes = torch.from_numpy(digits.x_test[digits.y_test == 3][:20])
    assert 1.0 <= metrics.score_images(model, threes) < 1.2


def test_noise_scores_low(cache_runs: dict) -> None:
    model = cache_runs["again"].model
    noise = torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert metrics.score_images(model, noise) < 3.0
