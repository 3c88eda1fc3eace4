"""URIs with query parameters, and a store's errors as one line (the real store: integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytune_hpo import storage

QUERY = "?endpoint_override=127.0.0.1:9000&scheme=http"


def test_a_path_joined_to_a_uri_goes_before_its_query() -> None:
    root = storage.as_location(f"s3://bucket/hpo/{QUERY}")

    assert root == f"s3://bucket/hpo{QUERY}"
    assert root / "exp" / "raytune_hpo.yaml" == f"s3://bucket/hpo/exp/raytune_hpo.yaml{QUERY}"
    assert storage.experiment_location(f"s3://bucket/hpo{QUERY}", "exp").name == "exp"
    assert (root / "exp").with_name("old") == f"s3://bucket/hpo/old{QUERY}"
    assert storage.storage_root(f"s3://bucket/hpo/{QUERY}") == f"s3://bucket/hpo{QUERY}"


def test_a_uri_without_query_joins_plainly() -> None:
    root = storage.as_location("gs://bucket/hpo/")
    assert root / "exp" == "gs://bucket/hpo/exp" and root.query == ""


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Bucket 'nobucket' not found. To create buckets, enable allow_bucket_creation.",
            "bucket 'nobucket' does not exist; create it, or correct the URI",
        ),
        (
            "When getting information for key 'hpo' in bucket 'b': AWS Error NETWORK_CONNECTION "
            "during HeadObject operation: curlCode: 7, Could not connect to server",
            "cannot reach the storage endpoint 127.0.0.1:9000 (Could not connect to server)",
        ),
        (
            "When getting information for bucket 'b': AWS Error ACCESS_DENIED during HeadBucket "
            "operation: No response body.",
            "access denied: the credentials in use may not read or write there (When getting "
            "information for bucket 'b': AWS Error ACCESS_DENIED during HeadBucket operation: "
            "No response body.)",
        ),
    ],
)
def test_store_errors_read_as_what_they_mean(
    monkeypatch: pytest.MonkeyPatch, message: str, expected: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "someone")
    assert storage.describe(f"s3://b/hpo{QUERY}", message) == expected


def test_a_refusal_without_credentials_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert not storage.credentials_found()
    message = "AWS Error ACCESS_DENIED (HTTP status 403) during HeadBucket operation"
    assert storage.describe("s3://b/hpo", message) == (
        "no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
        "AWS_PROFILE); the store refused the request (HTTP 403)"
    )


def test_a_uri_pyarrow_cannot_open_is_one_line() -> None:
    with pytest.raises(storage.StorageError) as caught:
        storage.exists(storage.as_location("nosuch://bucket/hpo"), "raytune_hpo.yaml")
    assert str(caught.value) == (
        "nosuch://bucket/hpo: not a storage URI that pyarrow opens (Unrecognized filesystem "
        "type in URI: nosuch://bucket/hpo)"
    )


def test_files_of_a_folder_are_listed_and_copied(tmp_path: Path) -> None:
    source = tmp_path / "local"
    source.mkdir()
    (source / "a.csv").write_text("x\n")
    (source / "sub").mkdir()
    target = storage.as_location(f"file://{tmp_path}/remote")

    copied = storage.upload(source, target)

    assert copied == {"a.csv": target / "a.csv"}
    assert storage.entries(target) == [("a.csv", False)]
    assert storage.entries(storage.as_location(tmp_path)) == [("local", True), ("remote", True)]
    assert storage.entries(target / "missing") == []


def test_an_endpoint_that_takes_no_connections_fails_at_once(
    monkeypatch: pytest.MonkeyPatch, closed_port: int, listening_port: int
) -> None:
    storage.probe_endpoint(f"s3://b/hpo?endpoint_override=127.0.0.1:{listening_port}&scheme=http")
    closed = f"s3://b/hpo?endpoint_override=127.0.0.1:{closed_port}&scheme=http"
    with pytest.raises(storage.StorageError) as caught:
        storage.probe_endpoint(closed)
    assert str(caught.value) == (
        f"{closed}: cannot reach the storage endpoint 127.0.0.1:{closed_port} (Connection refused)"
    )

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")
    with pytest.raises(storage.StorageError, match="Connection refused"):
        storage.probe_endpoint("s3://b/hpo")
    storage.probe_endpoint("gs://b/hpo")  # only an S3 endpoint is named
