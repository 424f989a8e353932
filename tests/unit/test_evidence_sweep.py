"""The sweep that reconciles database rows with stored objects, on both backends."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from evidence_store import EvidenceStore, LocalStore, S3Store, new_key
from evidence_store.sweep import SweepReport, delete_orphans, find_problems

GRACE = timedelta(hours=24)


def later(hours: float) -> datetime:
    """A clock `hours` from now: ages every object just stored by that much."""
    return datetime.now(UTC) + timedelta(hours=hours)


def put(store: EvidenceStore, data: bytes) -> tuple[str, str]:
    stored = store.put(new_key("PHUONG-TRUC-LAM"), io.BytesIO(data))
    return stored.key, stored.sha256


def tamper(store: EvidenceStore, key: str, data: bytes) -> None:
    if isinstance(store, LocalStore):
        (store.root / key).write_bytes(data)
    else:
        assert isinstance(store, S3Store)
        store.client.put_object(Bucket=store.bucket, Key=key, Body=data)


def test_a_consistent_store_reports_nothing(any_store: EvidenceStore) -> None:
    referenced = dict(put(any_store, f"tệp {i}".encode()) for i in range(3))

    report = find_problems(any_store, referenced, grace=GRACE, now=later(48))

    assert report == SweepReport() and report.ok


def test_orphans_missing_and_corrupted_objects_are_each_reported(
    any_store: EvidenceStore,
) -> None:
    kept_key, kept_sha = put(any_store, b"kept")
    orphan_key, _ = put(any_store, b"row never committed")
    corrupted_key, corrupted_sha = put(any_store, b"original bytes")
    tamper(any_store, corrupted_key, b"altered bytes!")
    missing_key = new_key("PHUONG-TRUC-LAM")
    referenced = {
        kept_key: kept_sha,
        corrupted_key: corrupted_sha,
        missing_key: "0" * 64,
    }

    report = find_problems(any_store, referenced, grace=GRACE, now=later(48))

    assert [info.key for info in report.orphans] == [orphan_key]
    assert report.orphans[0].size == len(b"row never committed")
    assert report.missing == [missing_key]
    assert report.corrupted == [corrupted_key]
    assert not report.ok


def test_recent_unreferenced_objects_are_not_orphans_yet(
    any_store: EvidenceStore,
) -> None:
    put(any_store, b"upload whose row is being committed right now")

    report = find_problems(any_store, {}, grace=GRACE, now=later(1))

    assert report.orphans == []


def test_without_hash_checks_corruption_is_not_looked_for(
    any_store: EvidenceStore,
) -> None:
    key, sha = put(any_store, b"original")
    tamper(any_store, key, b"altered")

    report = find_problems(
        any_store, {key: sha}, grace=GRACE, now=later(48), check_hashes=False
    )

    assert report.corrupted == []


def test_delete_orphans_removes_only_the_orphans(any_store: EvidenceStore) -> None:
    kept_key, kept_sha = put(any_store, b"kept")
    orphans = [put(any_store, f"orphan {i}".encode())[0] for i in range(3)]
    report = find_problems(any_store, {kept_key: kept_sha}, grace=GRACE, now=later(48))

    deleted = delete_orphans(any_store, report)

    assert deleted == 3
    assert [info.key for info in any_store.list()] == [kept_key]
    assert not any(any_store.exists(key) for key in orphans)
    assert find_problems(any_store, {kept_key: kept_sha}, grace=GRACE, now=later(48)).ok


def test_objects_a_foreign_tool_left_are_reported_but_not_deleted(
    s3_store: S3Store,
) -> None:
    s3_store.client.put_object(
        Bucket=s3_store.bucket, Key="backup tool/ghi chú.txt", Body=b"x"
    )
    report = find_problems(s3_store, {}, grace=GRACE, now=later(48))

    assert [info.key for info in report.orphans] == ["backup tool/ghi chú.txt"]
    assert delete_orphans(s3_store, report) == 0
    assert len(list(s3_store.list())) == 1


def test_the_sweep_needs_an_aware_clock(any_store: EvidenceStore) -> None:
    with pytest.raises(ValueError):
        find_problems(any_store, {}, grace=GRACE, now=datetime.now())


def _leave_unfinished_put(store: EvidenceStore) -> None:
    """What a worker killed mid-put leaves: a temporary part or a multipart upload."""
    if isinstance(store, LocalStore):
        (store.root / "PHUONG-TRUC-LAM").mkdir(parents=True, exist_ok=True)
        (store.root / "PHUONG-TRUC-LAM" / ".tmp-k1ll3d.part").write_bytes(b"%PDF half")
    else:
        assert isinstance(store, S3Store)
        store.client.create_multipart_upload(Bucket=store.bucket, Key="U1/half")


def test_unfinished_puts_are_reported_and_cleaned_but_never_objects(
    any_store: EvidenceStore,
) -> None:
    from evidence_store.sweep import CleanResult, clean

    kept_key, kept_sha = put(any_store, b"kept")
    _leave_unfinished_put(any_store)
    if isinstance(any_store, LocalStore):  # (moto dates every upload 10/11/2010)
        young = find_problems(
            any_store, {kept_key: kept_sha}, grace=GRACE, now=later(1)
        )
        assert young.ok and young.incomplete == []
        assert [u.size for u in young.recent_incomplete] == [len(b"%PDF half")]

    report = find_problems(any_store, {kept_key: kept_sha}, grace=GRACE, now=later(48))

    assert not report.ok and len(report.incomplete) == 1
    assert clean(any_store, report) == CleanResult(orphans=0, incomplete=1)
    assert list(any_store.incomplete()) == []
    assert [info.key for info in any_store.list("")] == [kept_key]


def test_the_local_store_discards_only_its_temporary_files(
    local_store: LocalStore,
) -> None:
    from evidence_store import IncompleteUpload, InvalidKey

    key, _ = put(local_store, b"an object, not a leftover")
    for ref in (key, f"{key.split('/')[0]}/../../etc/.tmp-x.part"):
        with pytest.raises(InvalidKey):
            local_store.discard(IncompleteUpload(key=ref, ref=ref, started=later(0)))
    assert local_store.exists(key)
