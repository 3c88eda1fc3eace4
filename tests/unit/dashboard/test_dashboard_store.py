"""The store's name rules and pattern matching, the same for a folder and a URI."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytune_hpo.storage.stamped import (
    ArrowStore,
    LocalStore,
    join,
    matches,
    open_store,
    plain_name,
    plain_parts,
)


@pytest.mark.parametrize("name", ["exp", "study/run", "a b", "exp.v2"])
def test_plain_names(name: str) -> None:
    assert plain_name(name) and plain_parts(name)


@pytest.mark.parametrize("name", ["", ".", "..", "exp/..", "a//b", "a/b/c", "a\\b", "a\0b", "/a"])
def test_other_names_are_refused(name: str) -> None:
    assert not plain_name(name)


def test_patterns_match_part_by_part() -> None:
    assert matches("trial_1/result.json", "*/result.json")
    assert not matches("trial_1/ckpt/result.json", "*/result.json")
    assert not matches("result.json", "*/result.json")
    assert matches("experiment_state-2026.json", "experiment_state-*.json")
    assert join("", "exp", "result.json") == "exp/result.json"


def test_a_uri_opens_a_pyarrow_store_and_keeps_its_query(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path), LocalStore)
    query = "?endpoint_override=127.0.0.1:9&scheme=http&region=us-east-1"
    store = open_store(f"s3://bucket/hpo{query}")  # opening it sends no request
    assert isinstance(store, ArrowStore) and store.base == "bucket/hpo"
    assert store.location("study/run") == f"s3://bucket/hpo/study/run{query}"
    assert store.location("../x") is None and store.location("a/./b") is None


def test_a_file_uri_store_stamps_lists_and_reads(tmp_path: Path) -> None:
    (tmp_path / "exp" / "t1").mkdir(parents=True)
    (tmp_path / "exp" / "t1" / "result.json").write_text("{}\n")
    (tmp_path / "exp" / "raytune_hpo.yaml").write_text("name: exp\n")
    (tmp_path / ".hidden").mkdir()
    store = open_store(f"file://{tmp_path}")
    assert store.folders("") == ["exp"] and store.find("exp") == "exp"
    assert store.find("exp/t1/result.json") is None and store.find("..") is None
    assert list(store.glob("exp", "*/result.json")) == ["t1/result.json"]
    assert store.stamp("exp/t1/result.json") == store.glob("exp", "*/result.json")["t1/result.json"]
    assert store.stamp("exp/t1/result.json")[1] == 3
    assert store.read("exp/raytune_hpo.yaml") == b"name: exp\n"
    assert store.stamp("exp/t1") is None and store.stamp("exp/../exp/raytune_hpo.yaml") is None
