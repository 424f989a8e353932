"""The evidence-store contract, run against both backends (`any_store`: a local
directory and S3 over real HTTP to a moto server), then each backend's faults."""

from __future__ import annotations

import hashlib
import io
import os
import re
import resource
import signal
import threading
import time
import tracemalloc
import urllib.parse
import urllib.request
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
from botocore.exceptions import EndpointConnectionError

from evidence_store import (
    EvidenceStore,
    InvalidKey,
    LocalStore,
    ObjectNotFound,
    S3Store,
    StorageError,
    make_client,
    new_key,
    store_from_settings,
)

MIB = 1 << 20


def data_of(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible-looking bytes (cheaper than os.urandom)."""
    block = hashlib.sha256(f"{seed}".encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


class RecordingReader(io.RawIOBase):
    """A source that records every read size, to prove `put` streams."""

    def __init__(self, data: bytes, *, seekable: bool = True) -> None:
        self._inner = io.BytesIO(data)
        self._seekable = seekable
        self.reads: list[int | None] = []

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(size)
        return self._inner.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("tell")
        return self._inner.tell()


class FailingReader(io.RawIOBase):
    """A source that breaks after `fail_after` bytes, like a client hanging up."""

    def __init__(self, data: bytes, fail_after: int, *, seekable: bool = False) -> None:
        self._inner = io.BytesIO(data)
        self._fail_after = fail_after
        self._seekable = seekable

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def read(self, size: int | None = -1) -> bytes:
        if self._inner.tell() >= self._fail_after:
            raise ConnectionResetError(104, "Connection reset by peer")
        return self._inner.read(size)


def tamper(store: EvidenceStore, key: str, data: bytes) -> None:
    """Replace an object's bytes behind the store's back (bit rot, an operator)."""
    if isinstance(store, LocalStore):
        (store.root / key).write_bytes(data)
    else:
        assert isinstance(store, S3Store)
        store.client.put_object(Bucket=store.bucket, Key=key, Body=data)


def leftovers(store: EvidenceStore) -> list[str]:
    """What a failed put could have left: temporary files or multipart uploads."""
    if isinstance(store, LocalStore):
        return sorted(
            str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file()
        )
    assert isinstance(store, S3Store)
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get(
        "Uploads", []
    )
    return [u["Key"] for u in uploads]


# -- the contract, on both backends ----------------------------------------------


@pytest.mark.parametrize(
    "size",
    [0, 1, MIB + 3, 12 * MIB],
    ids=["empty", "1-byte", "just-over-1MiB", "12MiB-multipart-on-s3"],
)
def test_put_returns_size_and_sha256_and_reads_back_identical(
    any_store: EvidenceStore, size: int
) -> None:
    data = data_of(size)
    key = new_key("PHUONG-TRUC-LAM")

    stored = any_store.put(key, io.BytesIO(data), content_type="application/pdf")

    assert (stored.key, stored.size) == (key, size)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    with any_store.open(key) as stream:
        assert stream.read() == data
    assert b"".join(any_store.iter_chunks(key)) == data


def test_open_streams_in_pieces(any_store: EvidenceStore) -> None:
    data = data_of(3 * MIB)
    key = new_key("U1")
    any_store.put(key, io.BytesIO(data))

    with any_store.open(key) as stream:
        first = stream.read(1000)
        rest = stream.read()
    chunks = list(any_store.iter_chunks(key, chunk_size=MIB))

    assert first + rest == data
    assert [len(c) for c in chunks] == [MIB, MIB, MIB]


@pytest.mark.parametrize("seekable", [True, False], ids=["seekable", "non-seekable"])
def test_put_reads_the_source_in_chunks_never_all_at_once(
    any_store: EvidenceStore, seekable: bool
) -> None:
    source = RecordingReader(data_of(11 * MIB), seekable=seekable)

    stored = any_store.put(new_key("U1"), cast(BinaryIO, source))

    assert stored.size == 11 * MIB
    sizes = [s for s in source.reads]
    assert None not in sizes and all(s >= MIB for s in sizes if s is not None), sizes
    assert max(s for s in sizes if s is not None) <= 8 * MIB, sizes


def test_put_stores_from_the_current_position(any_store: EvidenceStore) -> None:
    data = data_of(4096)
    source = io.BytesIO(data)
    source.seek(100)

    stored = any_store.put(new_key("U1"), cast(BinaryIO, source))

    assert stored.size == len(data) - 100
    assert b"".join(any_store.iter_chunks(stored.key)) == data[100:]


def test_put_to_an_existing_key_replaces_the_object(any_store: EvidenceStore) -> None:
    key = new_key("U1")
    any_store.put(key, io.BytesIO(b"version 1"))

    stored = any_store.put(key, io.BytesIO(b"version 2, longer"))

    assert b"".join(any_store.iter_chunks(key)) == b"version 2, longer"
    assert any_store.verify(key, stored.sha256)


def test_prefetch_is_advice_that_never_fails_a_read(any_store: EvidenceStore) -> None:
    key = new_key("U1")
    any_store.prefetch(key)  # nothing stored there yet: no error
    any_store.prefetch("../outside")  # not even for a key the store would refuse
    data = os.urandom(3 * 1024 * 1024 + 5)
    any_store.put(key, io.BytesIO(data))

    any_store.prefetch(key)

    assert b"".join(any_store.iter_chunks(key, 1024 * 1024)) == data
    assert b"".join(any_store.iter_chunks(key)) == data  # again, after the first read


def test_s3_reads_a_prefetched_object_with_one_get_and_never_a_stale_one(
    s3_store: S3Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evidence_store.s3 as s3_module

    gets: list[str] = []
    s3_store.client.meta.events.register(
        "before-parameter-build.s3.GetObject",
        lambda params, **_: gets.append(params["Key"]),
    )
    key = new_key("U1")
    data = os.urandom(MIB + 7)
    s3_store.put(key, io.BytesIO(data))

    s3_store.prefetch(key)  # sent now, on a helper thread, before any read
    deadline = time.monotonic() + 10
    while not gets and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gets == [key]
    assert b"".join(s3_store.iter_chunks(key)) == data
    assert gets == [key]  # the read took the prefetched answer
    assert b"".join(s3_store.iter_chunks(key)) == data
    assert gets == [key, key]  # used once: the next read asks again

    # An answer kept too long is not used: the object may have gone meanwhile.
    monkeypatch.setattr(s3_module, "PREFETCH_FOR", 0.0)
    s3_store.prefetch(key)
    s3_store.delete(key)
    with pytest.raises(ObjectNotFound):
        s3_store.open(key)


def test_exists_and_delete_is_idempotent(any_store: EvidenceStore) -> None:
    key = new_key("U1")
    assert not any_store.exists(key)
    any_store.put(key, io.BytesIO(b"x"))
    assert any_store.exists(key)

    any_store.delete(key)
    any_store.delete(key)  # again: not an error

    assert not any_store.exists(key)
    with pytest.raises(ObjectNotFound):
        any_store.open(key)


def test_missing_objects_raise_object_not_found_with_a_vietnamese_message(
    any_store: EvidenceStore,
) -> None:
    key = new_key("U1")
    with pytest.raises(ObjectNotFound, match="Không tìm thấy tệp"):
        any_store.open(key)
    with pytest.raises(ObjectNotFound):
        list(any_store.iter_chunks(key))
    with pytest.raises(ObjectNotFound):
        any_store.verify(key, "0" * 64)


def test_verify_accepts_the_recorded_hash_and_reports_a_wrong_one(
    any_store: EvidenceStore,
) -> None:
    stored = any_store.put(new_key("U1"), io.BytesIO(data_of(2 * MIB)))

    assert any_store.verify(stored.key, stored.sha256)
    assert any_store.verify(stored.key, stored.sha256.upper())
    assert not any_store.verify(stored.key, hashlib.sha256(b"other").hexdigest())


def test_verify_reports_an_object_altered_behind_the_stores_back(
    any_store: EvidenceStore,
) -> None:
    original = data_of(6 * MIB)
    stored = any_store.put(new_key("U1"), io.BytesIO(original))
    altered = bytearray(original)
    altered[3 * MIB] ^= 0x01  # one flipped bit, same size

    tamper(any_store, stored.key, bytes(altered))

    assert not any_store.verify(stored.key, stored.sha256)


def test_list_yields_objects_under_a_prefix_in_key_order(
    any_store: EvidenceStore,
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    keys = {
        "unit-a/2222": b"22",
        "unit-a/1111": b"1",
        "unit-a-b/3333": b"333",
        "unit-b/4444": b"4444",
    }
    for key, data in keys.items():
        any_store.put(key, io.BytesIO(data))

    under_a = list(any_store.list("unit-a/"))
    every = list(any_store.list())
    partial = [info.key for info in any_store.list("unit-a")]

    assert [(i.key, i.size) for i in under_a] == [
        ("unit-a/1111", 1),
        ("unit-a/2222", 2),
    ]
    assert [i.key for i in every] == sorted(keys)
    assert partial == ["unit-a-b/3333", "unit-a/1111", "unit-a/2222"]
    for info in every:
        assert info.last_modified.tzinfo is not None
        assert info.last_modified.utcoffset() == timedelta(0)
        assert before <= info.last_modified <= datetime.now(UTC) + timedelta(seconds=5)
    assert list(any_store.list("nobody/")) == []


@pytest.mark.parametrize(
    "key",
    ["", "../escape", "unit/../../escape", "/etc/passwd", "unit\\evil", "unit/a\x00b",
     "unit//x", "unit/./x", "unit/.hidden", "unit/", "đơn-vị/x", "a" * 513],
    ids=["empty", "dotdot", "nested-dotdot", "absolute", "backslash", "nul",
         "empty-seg", "dot-seg", "hidden", "trailing-slash", "non-ascii", "too-long"],
)  # fmt: skip
def test_keys_that_could_escape_or_mislead_are_refused_everywhere(
    any_store: EvidenceStore, key: str, tmp_path: Path
) -> None:
    before = sorted(tmp_path.rglob("*"))
    for call in (
        lambda: any_store.put(key, io.BytesIO(b"x")),
        lambda: any_store.open(key),
        lambda: any_store.exists(key),
        lambda: any_store.delete(key),
        lambda: any_store.verify(key, "0" * 64),
        lambda: any_store.presigned_url(key, filename="x.pdf"),
    ):
        with pytest.raises(InvalidKey):
            call()
    assert sorted(tmp_path.rglob("*")) == before  # nothing written anywhere
    with pytest.raises(InvalidKey):
        list(any_store.list("../"))


def test_a_failing_source_leaves_nothing_behind(any_store: EvidenceStore) -> None:
    key = new_key("U1")
    source = FailingReader(data_of(12 * MIB), fail_after=7 * MIB)

    with pytest.raises(StorageError, match="Không lưu được tệp vào kho lưu trữ"):
        any_store.put(key, cast(BinaryIO, source))

    assert not any_store.exists(key)
    assert list(any_store.list()) == []
    assert leftovers(any_store) == []


@pytest.mark.parametrize(
    ("size", "declared"),
    [(MIB + 3, False), (12 * MIB, False), (MIB + 3, True), (3 * MIB, True),
     (12 * MIB, True)],
    ids=["small", "multipart-on-s3", "streamed-in-memory", "streamed-ranged",
         "streamed-large"],
)  # fmt: skip
def test_a_stage_reads_back_what_was_written_and_commits_or_aborts(
    any_store: EvidenceStore, size: int, declared: bool
) -> None:
    data = data_of(size)
    kept, dropped = new_key("U1"), new_key("U1")
    for key in (kept, dropped):
        # Declared as the upload widget does: S3 sends it in one streamed PutObject.
        staged = any_store.stage(key, size=size if declared else None)
        for at in range(0, size, 300_000):  # as the parser writes, piece by piece
            staged.write(data[at : at + 300_000])
        stored = staged.finish()
        assert (stored.size, stored.sha256) == (size, hashlib.sha256(data).hexdigest())
        # The CRC-32 a ZIP stores the file with: zlib's, past the inline start too.
        assert stored.crc32 == zlib.crc32(data)
        with staged.open_staged() as back:
            assert back.read(10) == data[:10]
            back.seek(size // 2)  # the middle, then the end, as validation seeks
            assert back.read(100) == data[size // 2 : size // 2 + 100]
            back.seek(-5, io.SEEK_END)
            assert back.read() == data[-5:]
        staged.start_commit()  # begun: the caller writes its rows meanwhile
        if key == kept:
            staged.commit()
        else:
            staged.abort()  # refused after all: the object goes too

    with any_store.open(kept) as stream:
        assert stream.read() == data
    assert not any_store.exists(dropped)
    assert [o.key for o in any_store.list()] == [kept]
    assert leftovers(any_store) == ([kept] if isinstance(any_store, LocalStore) else [])


def test_a_declared_upload_goes_to_s3_in_one_put_while_it_arrives(
    s3_store: S3Store,
) -> None:
    data = data_of(12 * MIB)
    key = new_key("U1")
    staged = s3_store.stage(key, size=len(data))
    for at in range(0, len(data), MIB):
        staged.write(data[at : at + MIB])
    staged.finish()
    staged.commit()

    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=key)
    assert "-" not in head["ETag"]  # one PutObject: a multipart ETag ends in "-<parts>"
    assert head["ContentLength"] == len(data)
    assert s3_store.verify(key, hashlib.sha256(data).hexdigest())
    assert leftovers(s3_store) == []


@pytest.mark.parametrize("sent", [5 * MIB, 7 * MIB], ids=["shorter", "longer"])
def test_an_upload_not_as_long_as_declared_is_refused_and_leaves_nothing(
    s3_store: S3Store, sent: int
) -> None:
    data = data_of(sent)
    key = new_key("U1")
    staged = s3_store.stage(key, size=6 * MIB)
    with pytest.raises(StorageError, match="không khớp kích thước"):
        for at in range(0, len(data), MIB):
            staged.write(data[at : at + MIB])
        staged.finish()
    staged.abort()

    assert not s3_store.exists(key)
    assert list(s3_store.list()) == []
    assert leftovers(s3_store) == []


def test_a_streamed_upload_cut_off_halfway_stores_nothing(s3_store: S3Store) -> None:
    key = new_key("U1")
    staged = s3_store.stage(key, size=12 * MIB)
    staged.write(data_of(6 * MIB))
    staged.abort()  # the client went away

    assert not s3_store.exists(key)
    assert list(s3_store.list()) == []


def test_presigned_urls_are_off_unless_enabled(any_store: EvidenceStore) -> None:
    stored = any_store.put(new_key("U1"), io.BytesIO(b"x"))

    assert any_store.presigned_url(stored.key, filename="Báo cáo.pdf") is None
    for expires in (0, 301, 7 * 24 * 3600):
        with pytest.raises(ValueError):
            any_store.presigned_url(stored.key, filename="Báo cáo.pdf", expires=expires)


# -- keys and settings -----------------------------------------------------------


def test_new_key_groups_by_a_sanitised_unit_code_and_is_unique() -> None:
    keys = {new_key("Phường Trúc Lâm") for _ in range(1000)}

    assert len(keys) == 1000
    for key in keys:
        assert re.fullmatch(r"Phuong_Truc_Lam/[0-9a-f]{32}", key), key
    assert new_key("000.00.13.H36").startswith("000_00_13_H36/")
    assert new_key("Đồng Đăng").startswith("Dong_Dang/")
    assert new_key("../../etc").startswith("etc/")
    with pytest.raises(ValueError):
        new_key("../")


def test_store_from_settings_builds_the_local_store(tmp_path: Path) -> None:
    store = store_from_settings(
        {"EVIDENCE_BACKEND": "local", "EVIDENCE_LOCAL_ROOT": str(tmp_path / "ev")}
    )

    assert isinstance(store, LocalStore) and store.root == (tmp_path / "ev").resolve()
    assert isinstance(store, EvidenceStore)
    assert isinstance(
        store_from_settings({"EVIDENCE_LOCAL_ROOT": tmp_path}), LocalStore
    )


def test_store_from_settings_builds_s3_and_creates_the_bucket(
    s3_settings: dict[str, Any],
) -> None:
    settings = {**s3_settings, "S3_CREATE_BUCKET": "true", "S3_PRESIGNED": "1"}

    store = store_from_settings(settings)
    stored = store.put(new_key("U1"), io.BytesIO(b"hello"))

    assert isinstance(store, S3Store) and store.bucket == s3_settings["S3_BUCKET"]
    assert store.verify(stored.key, stored.sha256)
    assert store.presigned_url(stored.key, filename="a.pdf") is not None


def test_without_create_bucket_a_missing_bucket_is_a_clear_error(
    s3_settings: dict[str, Any],
) -> None:
    store = store_from_settings({**s3_settings, "S3_CREATE_BUCKET": False})

    with pytest.raises(StorageError, match="chưa có kho \\(bucket\\)"):
        store.put(new_key("U1"), io.BytesIO(b"x"))


@pytest.mark.parametrize(
    "settings",
    [
        {"EVIDENCE_BACKEND": "local"},
        {"EVIDENCE_BACKEND": "s3"},
        {"EVIDENCE_BACKEND": "ftp"},
        {"EVIDENCE_BACKEND": "s3", "S3_BUCKET": "b-1", "S3_PART_SIZE": 1024},
        {"EVIDENCE_BACKEND": "s3", "S3_BUCKET": "b-1", "S3_PATH_STYLE": "maybe"},
    ],
    ids=[
        "local-without-root",
        "s3-without-bucket",
        "unknown-backend",
        "tiny-parts",
        "bad-bool",
    ],
)
def test_store_from_settings_refuses_incomplete_settings(
    settings: dict[str, Any],
) -> None:
    with pytest.raises(ValueError):
        store_from_settings(settings)


def test_s3_defaults_send_files_over_8_mib_as_multipart(
    s3_client: Any, s3_settings: dict[str, Any]
) -> None:
    store = S3Store(s3_client, s3_settings["S3_BUCKET"], create_bucket=True)
    small = store.put(new_key("U1"), io.BytesIO(data_of(8 * MIB)))
    large = store.put(new_key("U1"), io.BytesIO(data_of(9 * MIB)))

    def etag(key: str) -> str:
        return str(s3_client.head_object(Bucket=store.bucket, Key=key)["ETag"])

    assert "-" not in etag(small.key)  # one PutObject
    assert etag(large.key).endswith('-2"')  # two parts: 8 MiB + 1 MiB


# -- S3 specifics ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "seekable"),
    [(1000, True), (12 * MIB, True), (12 * MIB, False)],
    ids=["single-put", "multipart", "multipart-non-seekable"],
)
def test_s3_objects_carry_their_sha256_and_content_type(
    s3_store: S3Store, size: int, seekable: bool
) -> None:
    data = data_of(size)
    stored = s3_store.put(
        new_key("U1"),
        cast(BinaryIO, RecordingReader(data, seekable=seekable)),
        content_type="application/vnd.ms-excel",
    )

    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=stored.key)
    assert head["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert s3_store.stored_sha256(stored.key) == stored.sha256
    assert head["ContentType"] == "application/vnd.ms-excel"
    assert head["ContentLength"] == size


def test_s3_odd_part_sizes_round_trip(
    s3_client: Any, s3_settings: dict[str, Any]
) -> None:
    store = S3Store(
        s3_client,
        s3_settings["S3_BUCKET"],
        part_size=5 * MIB + 4097,
        create_bucket=True,
    )
    data = data_of(11 * MIB)

    stored = store.put(new_key("U1"), io.BytesIO(data))

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(store.iter_chunks(stored.key)) == data
    assert store.stored_sha256(stored.key) == stored.sha256


class ShrinkingFile(io.BytesIO):
    """A seekable source that loses its tail after the store's hash pass."""

    rewinds = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        if (offset, whence) == (0, 0):
            self.rewinds += 1
            if self.rewinds == 2:  # after the size probe and the hash pass
                self.truncate(7 * MIB)
        return super().seek(offset, whence)


def test_s3_a_source_changing_during_the_put_is_refused(s3_store: S3Store) -> None:
    key = new_key("U1")

    with pytest.raises(StorageError, match="tệp bị thay đổi khi đang lưu"):
        s3_store.put(key, ShrinkingFile(data_of(12 * MIB)))

    assert not s3_store.exists(key)
    assert leftovers(s3_store) == []


def test_s3_presigned_url_downloads_with_the_exact_vietnamese_name(
    s3_client: Any, s3_settings: dict[str, Any]
) -> None:
    store = S3Store(
        s3_client, s3_settings["S3_BUCKET"], presigned=True, create_bucket=True
    )
    name = "Quyết định số 12/QĐ-UBND về kế hoạch CCHC.pdf"
    stored = store.put(new_key("U1"), io.BytesIO(b"%PDF-1.4 ..."))

    url = store.presigned_url(stored.key, filename=name, expires=60)
    assert url is not None and url.startswith(s3_settings["S3_ENDPOINT_URL"])
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
        disposition = response.headers["Content-Disposition"]

    assert body == b"%PDF-1.4 ..."
    assert disposition.startswith("attachment;")
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert encoded and urllib.parse.unquote(encoded.group(1)) == name
    with pytest.raises(ValueError):
        store.presigned_url(stored.key, filename=name, expires=3600)


def test_s3_endpoint_failing_mid_multipart_leaves_no_object_and_no_upload(
    moto_s3_endpoint: str, s3_settings: dict[str, Any]
) -> None:
    # One attempt per request: retries are covered by the transient test below,
    # and would only make this outage take seconds longer.
    client = make_client(
        endpoint_url=moto_s3_endpoint, access_key="t", secret_key="t", max_attempts=1
    )
    bucket = s3_settings["S3_BUCKET"]
    store = S3Store(client, bucket, part_size=5 * MIB, create_bucket=True)
    key = new_key("U1")
    previous = store.put(key, io.BytesIO(b"the evidence already accepted"))
    parts_sent = 0

    def outage_from_third_part(request: Any, **_: Any) -> None:
        nonlocal parts_sent
        parts_sent += 1
        if parts_sent >= 3:
            raise EndpointConnectionError(endpoint_url=moto_s3_endpoint)

    client.meta.events.register("before-send.s3.UploadPart", outage_from_third_part)

    with pytest.raises(StorageError) as caught:
        store.put(key, io.BytesIO(data_of(16 * MIB)))

    assert str(caught.value) == (
        "Không lưu được tệp vào kho lưu trữ: không kết nối được tới máy chủ lưu trữ."
    )
    assert parts_sent == 3
    assert leftovers(store) == []
    assert store.verify(key, previous.sha256)  # the earlier object is untouched
    assert [i.key for i in store.list()] == [key]


def test_s3_interrupt_mid_multipart_aborts_the_upload(s3_store: S3Store) -> None:
    parts_sent = 0

    def interrupt_on_second_part(request: Any, **_: Any) -> None:
        nonlocal parts_sent
        parts_sent += 1
        if parts_sent == 2:
            raise KeyboardInterrupt

    s3_store.client.meta.events.register(
        "before-send.s3.UploadPart", interrupt_on_second_part
    )
    key = new_key("U1")

    with pytest.raises(KeyboardInterrupt):
        s3_store.put(key, io.BytesIO(data_of(12 * MIB)))

    assert not s3_store.exists(key)
    assert leftovers(s3_store) == []


def test_s3_a_single_dropped_part_is_retried_transparently(s3_store: S3Store) -> None:
    failures = 0

    def drop_once(request: Any, **_: Any) -> None:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1")

    s3_store.client.meta.events.register("before-send.s3.UploadPart", drop_once)
    data = data_of(12 * MIB)

    stored = s3_store.put(new_key("U1"), io.BytesIO(data))

    assert failures == 1
    assert s3_store.verify(stored.key, hashlib.sha256(data).hexdigest())


def test_s3_incomplete_uploads_are_listed_and_discarded(s3_store: S3Store) -> None:
    client, bucket = s3_store.client, s3_store.bucket
    client.create_multipart_upload(Bucket=bucket, Key="U1/left-behind")

    (upload,) = list(s3_store.incomplete())
    s3_store.discard(upload)
    s3_store.discard(upload)  # idempotent

    assert upload.key == "U1/left-behind" and upload.started.tzinfo is not None
    assert leftovers(s3_store) == []


# -- local specifics -------------------------------------------------------------


def test_local_write_failure_mid_file_leaves_no_partial_file(
    local_store: LocalStore,
) -> None:
    key = new_key("U1")
    local_store.put(key, io.BytesIO(b"the evidence already accepted"))
    # A real kernel-level write failure (EFBIG) after 2 MiB, as a full disk
    # would give: RLIMIT_FSIZE caps file size for this process, SIGXFSZ ignored.
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 * MIB, old_limit[1]))
    try:
        with pytest.raises(StorageError) as caught:
            local_store.put(key, io.BytesIO(data_of(5 * MIB)))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)

    assert str(caught.value).startswith("Không lưu được tệp vào kho lưu trữ: ")
    assert leftovers(local_store) == [key]  # no temporary file
    assert b"".join(local_store.iter_chunks(key)) == b"the evidence already accepted"


def test_local_disk_full_at_commit_is_reported_and_cleaned_up(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    key = new_key("U1")

    with pytest.raises(StorageError, match="ổ đĩa đã đầy"):
        local_store.put(key, io.BytesIO(data_of(3 * MIB)))

    assert leftovers(local_store) == []


def test_local_put_memory_stays_flat_for_a_large_file(
    local_store: LocalStore, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    with source.open("wb") as out:
        for i in range(32):
            out.write(data_of(MIB, seed=i))

    tracemalloc.start()
    try:
        with source.open("rb") as f:
            stored = local_store.put(new_key("U1"), f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.size == 32 * MIB
    assert peak < 4 * MIB, f"peak {peak / MIB:.1f} MiB for a 32 MiB file"


def test_local_symlink_planted_in_the_root_cannot_lead_outside(
    local_store: LocalStore, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (local_store.root / "unit").symlink_to(outside, target_is_directory=True)

    with pytest.raises(InvalidKey):
        local_store.put("unit/abc", io.BytesIO(b"x"))

    assert list(outside.iterdir()) == []


def test_local_readers_see_the_old_or_the_new_file_never_a_mix(
    local_store: LocalStore,
) -> None:
    key = new_key("U1")
    old, new = data_of(4 * MIB, seed=1), data_of(4 * MIB, seed=2)
    local_store.put(key, io.BytesIO(old))
    seen: set[bytes] = set()
    stop = threading.Event()

    def read_repeatedly() -> None:
        while not stop.is_set():
            seen.add(hashlib.sha256(b"".join(local_store.iter_chunks(key))).digest())

    reader = threading.Thread(target=read_repeatedly)
    reader.start()
    try:
        for i in range(6):
            local_store.put(key, io.BytesIO(new if i % 2 == 0 else old))
    finally:
        stop.set()
        reader.join()

    assert seen <= {hashlib.sha256(old).digest(), hashlib.sha256(new).digest()}


def test_importing_the_package_does_not_load_boto3_for_the_local_backend() -> None:
    """boto3 costs startup time and memory; the local backend never needs it."""
    import subprocess
    import sys
    import tempfile

    code = (
        "import sys, evidence_store\n"
        "evidence_store.store_from_settings("
        "{'EVIDENCE_BACKEND': 'local', 'EVIDENCE_LOCAL_ROOT': sys.argv[1]})\n"
        "print('boto3' in sys.modules)\n"
        "evidence_store.S3Store\n"
        "print('boto3' in sys.modules)\n"
    )
    with tempfile.TemporaryDirectory() as root:
        out = subprocess.run(
            [sys.executable, "-c", code, root],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    assert out == ["False", "True"]
