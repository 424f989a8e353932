"""S3 backend (AWS S3, MinIO or any S3-compatible server), through boto3.

The only module of the package that imports boto3/botocore.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import logging
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from .core import (
    CHUNK_SIZE,
    AsideHasher,
    IncompleteUpload,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    Staged,
    StorageError,
    StorageFull,
    StoredObject,
    check_expires,
    check_key,
    check_prefix,
    is_seekable,
    iter_stream,
    put_staged,
    read_exact,
    shared_pool,
)
from .text import content_disposition

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

logger = logging.getLogger(__name__)

MIB = 1 << 20
#: S3's limits: every part but the last is at least 5 MiB; at most 10 000 parts.
MIN_PART_SIZE = 5 * MIB
MAX_PART_SIZE = 5 * 1024 * MIB
PARTS_IN_FLIGHT = (
    3  # parts of one upload sent at once (S3, MinIO take them in parallel)
)
MAX_PARTS = 10_000
#: A staged multipart upload keeps its first and last this many bytes in memory (the
#: last part is there anyway): validation reads mostly there, and each ranged GET
#: would be a round trip (and, on some servers, a read of the whole object).
KEPT_ENDS = MIB

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
# MinIO answers 507 "XMinioStorageFull" when its disks are full; AWS never fills.
_FULL_CODES = frozenset({"XMinioStorageFull", "507", "InsufficientStorage"})
_ACCESS_CODES = frozenset(
    {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"}
)


def make_client(
    *,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    access_key: str | None = None,
    secret_key: str | None = None,
    path_style: bool = True,
    max_attempts: int = 3,
    connect_timeout: float = 5,
    read_timeout: float = 60,
) -> S3Client:
    """Build the boto3 S3 client every part of the product should use.

    Checksum behaviour is pinned to ``when_required``: boto3 ≥ 1.36 otherwise
    adds CRC trailers that several S3-compatible servers reject, and costs
    throughput. Integrity comes from the store's own SHA-256 instead, sent as
    ``ChecksumSHA256`` so that servers which verify it do. Requests are tried
    up to ``max_attempts`` times in all ("standard" retry mode), so a single
    dropped connection during a part is retried transparently. Missing
    credentials fall back to boto3's usual chain (environment, instance
    profile).
    """
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if path_style else "auto"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # "total_max_attempts" counts the first try; botocore's "max_attempts"
        # would count retries only.
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        config=config,
    )


def _error_code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code", ""))


def _http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _is_full(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and (
        _error_code(exc) in _FULL_CODES or _http_status(exc) == 507
    )


def _describe(exc: BaseException, bucket: str) -> str:
    """Say in Vietnamese what went wrong; the technical detail stays in logs."""
    if isinstance(exc, ClientError):
        code = _error_code(exc)
        if code in _FULL_CODES or _http_status(exc) == 507:
            return "kho lưu trữ đã đầy"
        if code == "NoSuchBucket":
            return f"chưa có kho (bucket) “{bucket}” trên máy chủ lưu trữ"
        if code in _ACCESS_CODES:
            return "máy chủ lưu trữ từ chối truy cập (kiểm tra khóa truy cập và quyền)"
        if code in ("SlowDown", "ServiceUnavailable", "503"):
            return "máy chủ lưu trữ đang quá tải, hãy thử lại sau ít phút"
        if code in (
            "EntityTooLarge",
            "EntityTooSmall",
            "InvalidPart",
            "InvalidPartOrder",
        ):
            return f"máy chủ lưu trữ không nhận phần tải lên ({code})"
        return f"máy chủ lưu trữ báo lỗi {code or 'không rõ'}"
    if isinstance(exc, ReadTimeoutError):
        return "máy chủ lưu trữ không phản hồi kịp"
    if isinstance(exc, (BotoConnectionError, ConnectionClosedError)):
        return "không kết nối được tới máy chủ lưu trữ"
    if isinstance(exc, BotoCoreError):
        return "lỗi khi trao đổi với máy chủ lưu trữ"
    if isinstance(exc, OSError):
        # boto3 wraps its own network errors, so an OSError is the source's.
        return f"không đọc được tệp tải lên ({type(exc).__name__})"
    return f"lỗi không mong đợi ({type(exc).__name__})"


class _BodyReader(io.RawIOBase):
    """Raw stream over a botocore ``StreamingBody`` that reports network
    failures as :class:`StorageError` instead of botocore exceptions."""

    def __init__(self, body: Any, key: str, bucket: str) -> None:
        self._body = body
        self._key = key
        self._bucket = bucket

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._body.read(len(view))
        except (BotoCoreError, ClientError, OSError) as exc:
            logger.warning("evidence read %s failed: %s", self._key, exc)
            raise StorageError(
                f"Không đọc được tệp từ kho lưu trữ: {_describe(exc, self._bucket)}."
            ) from exc
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Store:
    """Evidence store in an S3 bucket (see :class:`EvidenceStore`).

    Files up to ``multipart_threshold`` bytes go up in one ``PutObject``;
    larger ones as a multipart upload of ``part_size`` parts, read and sent one
    at a time (memory stays about one part), aborted on any failure. Every
    object carries its SHA-256 as user metadata ``sha256`` (for sweeps and
    restore checks) and, to servers that verify it, as ``ChecksumSHA256``.

    ``client`` comes from :func:`make_client`; it is injected so tests and
    tools can point the store at any endpoint.
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        part_size: int = 8 * MIB,
        multipart_threshold: int = 8 * MIB,
        presigned: bool = False,
        create_bucket: bool = False,
    ) -> None:
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(
                f"part_size must be between 5 MiB and 5 GiB, got {part_size}"
            )
        if multipart_threshold < 0:
            raise ValueError("multipart_threshold must not be negative")
        if not bucket:
            raise ValueError("bucket must not be empty")
        self._client = client
        self._bucket = bucket
        self._part_size = part_size
        self._threshold = multipart_threshold
        self._presigned = presigned
        self._prefetch_lock = threading.Lock()
        self._prefetches: OrderedDict[str, tuple[float, Future[Any]]] = OrderedDict()
        # Once per client, however many stores share it.
        client.meta.events.register(
            "before-sign.s3.PutObject",
            _sign_streams_unsigned,
            unique_id="parindex-unsigned-streams",
        )
        if create_bucket:
            self._ensure_bucket()

    @property
    def client(self) -> S3Client:
        """The boto3 client in use."""
        return self._client

    @property
    def bucket(self) -> str:
        """The bucket holding the objects."""
        return self._bucket

    def __repr__(self) -> str:
        endpoint = self._client.meta.endpoint_url
        return f"S3Store(bucket={self._bucket!r}, endpoint={endpoint!r})"

    def _ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self._bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in _NOT_FOUND_CODES | {"NoSuchBucket"}:
                raise self._error("Không kiểm tra được kho lưu trữ", exc) from exc
        except BotoCoreError as exc:
            raise self._error("Không kiểm tra được kho lưu trữ", exc) from exc
        region = self._client.meta.region_name
        try:
            if region and region != "us-east-1":
                self._client.create_bucket(
                    Bucket=self._bucket,
                    CreateBucketConfiguration={"LocationConstraint": cast(Any, region)},
                )
            else:
                self._client.create_bucket(Bucket=self._bucket)
            logger.info("created evidence bucket %s", self._bucket)
        except ClientError as exc:
            if _error_code(exc) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return  # created concurrently by another instance
            raise self._error("Không tạo được kho lưu trữ", exc) from exc
        except BotoCoreError as exc:
            raise self._error("Không tạo được kho lưu trữ", exc) from exc

    def _error(self, what: str, exc: BaseException) -> StorageError:
        kind = StorageFull if _is_full(exc) else StorageError
        return kind(f"{what}: {_describe(exc, self._bucket)}.")

    # -- writing -----------------------------------------------------------

    def put(
        self,
        key: str,
        fileobj: BinaryIO,
        *,
        content_type: str = "application/octet-stream",
    ) -> StoredObject:
        """Store the rest of ``fileobj`` under ``key``; see :class:`EvidenceStore`.

        Each byte is hashed as few times as possible, since hashing is the
        store's main cost over raw boto3. Up to the threshold, the data is read
        once and its one digest serves as result, metadata and
        ``ChecksumSHA256``. Above it, a seekable source (the web layer's
        spooled file) gets one pre-pass computing the file's digest (so the
        metadata travels with the upload) and each part's digest (sent as the
        part's checksum, so a server that verifies checksums rejects a part
        that changed since); a non-seekable one goes through :meth:`stage`.
        """
        check_key(key)
        try:
            if is_seekable(fileobj):
                start = fileobj.tell()
                size = fileobj.seek(0, io.SEEK_END) - start
                fileobj.seek(start)
                if size <= self._threshold:
                    return self._put_single(
                        key, read_exact(fileobj, size), content_type
                    )
                planned = _plan_parts(fileobj, self._part_size)
                fileobj.seek(start)
                return self._put_multipart(key, fileobj, content_type, planned)
            staged = _S3Staged(self, key, content_type, record_digest=True)
            return put_staged(staged, fileobj)
        except StorageError:
            raise
        except Exception as exc:
            logger.warning("evidence put %s failed: %r", key, exc)
            raise self._error("Không lưu được tệp vào kho lưu trữ", exc) from exc

    def _put_single(
        self, key: str, data: bytes, content_type: str, digest: Any = None
    ) -> StoredObject:
        # ``digest``: the data's SHA-256 object when the caller hashed it already.
        digest = digest or hashlib.sha256(data)
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            Metadata={"sha256": digest.hexdigest()},
            ChecksumSHA256=_b64(digest.digest()),
        )
        return StoredObject(key=key, size=len(data), sha256=digest.hexdigest())

    def _put_multipart(
        self, key: str, fileobj: BinaryIO, content_type: str, planned: _PartPlan
    ) -> StoredObject:
        upload_id = self._create_multipart(key, content_type, planned.sha256)
        parts: list[CompletedPartTypeDef] = []
        try:
            for number, (size, checksum) in enumerate(
                zip(planned.sizes, planned.parts, strict=True), start=1
            ):
                data = read_exact(fileobj, size)
                if len(data) != size:
                    raise _changed_while_storing()
                parts.append(self._upload_part(key, upload_id, number, data, checksum))
            if fileobj.read(CHUNK_SIZE):  # grew since it was planned
                raise _changed_while_storing()
            self._complete(key, upload_id, parts)
        except BaseException:
            # BaseException on purpose: a KeyboardInterrupt or worker timeout
            # in the middle must not leave invisible parts using storage.
            self._abort(key, upload_id)
            raise
        return StoredObject(key=key, size=planned.size, sha256=planned.sha256)

    def _create_multipart(
        self, key: str, content_type: str, sha256: str, *, checksums: bool = True
    ) -> str:
        # ``checksums``: each part will carry its ChecksumSHA256.
        extra: dict[str, Any] = {"ChecksumAlgorithm": "SHA256"} if checksums else {}
        return self._client.create_multipart_upload(
            Bucket=self._bucket,
            Key=key,
            ContentType=content_type,
            Metadata={"sha256": sha256},
            **extra,
        )["UploadId"]

    def _upload_part(
        self, key: str, upload_id: str, number: int, data: bytes, checksum: str | None
    ) -> CompletedPartTypeDef:
        if number > MAX_PARTS:
            raise StorageError(
                "Không lưu được tệp vào kho lưu trữ: "
                "tệp quá lớn so với cỡ phần tải lên."
            )
        if checksum is None:
            response = self._client.upload_part(
                Bucket=self._bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
            )
            return {"PartNumber": number, "ETag": response["ETag"]}
        response = self._client.upload_part(
            Bucket=self._bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumSHA256=checksum,
        )
        return {
            "PartNumber": number,
            "ETag": response["ETag"],
            "ChecksumSHA256": checksum,
        }

    def _complete(
        self, key: str, upload_id: str, parts: list[CompletedPartTypeDef]
    ) -> None:
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )

    def stage(
        self,
        key: str,
        *,
        content_type: str = "application/octet-stream",
        size: int | None = None,
    ) -> Staged:
        """Send an upload as it arrives (see :class:`Staged`): up to the threshold it
        stays in memory and goes up in one ``PutObject`` at ``commit``; beyond, it
        goes up while it arrives and is visible at ``finish`` (under a fresh key no
        row names yet), ``abort`` deleting it: as one streamed ``PutObject`` when
        its ``size`` is declared (the upload widget sends it), else as a multipart
        upload, each full part sent as soon as it is complete."""
        check_key(key)
        # The web app records the digest in its database row: the server-side
        # self-copy that would put it in the metadata (a second write of every
        # byte) is left to put(), whose callers may have nothing else.
        return _S3Staged(self, key, content_type, record_digest=False, size=size)

    def _put_streamed(self, key: str, body: _PutPipe, content_type: str) -> None:
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=cast(Any, body),
            ContentLength=body.size,
            ContentType=content_type,
        )

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=upload_id
            )
            logger.info("aborted multipart upload %s of %s", upload_id, key)
        except Exception as exc:
            # Nothing more can be done now; the sweep (``incomplete`` and
            # ``discard``) or the bucket's lifecycle rule removes it later.
            logger.warning(
                "could not abort multipart upload %s of %s: %s", upload_id, key, exc
            )

    def _set_metadata(self, key: str, content_type: str, sha256: str) -> None:
        try:
            self._client.copy_object(
                Bucket=self._bucket,
                Key=key,
                CopySource={"Bucket": self._bucket, "Key": key},
                Metadata={"sha256": sha256},
                MetadataDirective="REPLACE",
                ContentType=content_type,
            )
        except BaseException:
            # The caller will be told the put failed, so no object may stay.
            self._delete_quietly(key)
            raise

    def _delete_quietly(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        except Exception as exc:
            logger.warning("could not delete %s after a failed put: %s", key, exc)

    # -- reading -----------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        """Open the object for streaming reads; see :class:`EvidenceStore`."""
        check_key(key)
        try:
            response = self._prefetched(key) or self._client.get_object(
                Bucket=self._bucket, Key=key
            )
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                raise ObjectNotFound(key) from exc
            raise self._error("Không đọc được tệp từ kho lưu trữ", exc) from exc
        except BotoCoreError as exc:
            raise self._error("Không đọc được tệp từ kho lưu trữ", exc) from exc
        raw = _BodyReader(response["Body"], key, self._bucket)
        return io.BufferedReader(raw, buffer_size=CHUNK_SIZE)

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the object's bytes; see :class:`EvidenceStore`."""
        # Validate before opening, so a bad size fails at once, not on first next().
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        return iter_stream(self.open(key), chunk_size)

    def prefetch(self, key: str) -> None:
        """Send the GET of ``key`` now, on a helper thread: its round trip overlaps
        the reading of the current object (a dossier's hundred small scans paid one
        each). The next :meth:`open` of the key takes the answer, if it comes within
        PREFETCH_FOR seconds; any failure is left for that open to meet itself."""
        try:
            check_key(key)
        except InvalidKey:
            return
        with self._prefetch_lock:
            earlier = self._prefetches.pop(key, None)
            if earlier is not None:  # it may have failed, or be old: a fresh one
                earlier[1].add_done_callback(_close_answer)
            future = shared_pool("s3-prefetch", PREFETCHES).submit(
                self._client.get_object, Bucket=self._bucket, Key=key
            )
            self._prefetches[key] = (time.monotonic(), future)
            while len(self._prefetches) > PREFETCHES:
                _, (_, dropped) = self._prefetches.popitem(last=False)
                dropped.add_done_callback(_close_answer)

    def _prefetched(self, key: str) -> Any | None:
        """The prefetched answer for ``key``, if any, recent and successful."""
        with self._prefetch_lock:
            found = self._prefetches.pop(key, None)
        if found is None:
            return None
        started, future = found
        if time.monotonic() - started > PREFETCH_FOR:
            future.add_done_callback(_close_answer)  # too old: the object may be gone
            return None
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - the open sends its own GET and reports
            return None

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under ``key``."""
        check_key(key)
        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                return False
            raise self._error("Không kiểm tra được tệp trong kho lưu trữ", exc) from exc
        except BotoCoreError as exc:
            raise self._error("Không kiểm tra được tệp trong kho lưu trữ", exc) from exc
        return True

    def delete(self, key: str) -> None:
        """Remove the object if present (idempotent, as S3's DeleteObject)."""
        check_key(key)
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("Không xoá được tệp khỏi kho lưu trữ", exc) from exc

    def verify(self, key: str, sha256: str) -> bool:
        """Re-hash the object and compare it with ``sha256`` (hex)."""
        digest = hashlib.sha256()
        for chunk in self.iter_chunks(key):
            digest.update(chunk)
        return hmac.compare_digest(digest.hexdigest(), sha256.strip().lower())

    def stored_sha256(self, key: str) -> str | None:
        """Return the SHA-256 recorded in the object's metadata, if any."""
        check_key(key)
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                raise ObjectNotFound(key) from exc
            raise self._error("Không kiểm tra được tệp trong kho lưu trữ", exc) from exc
        except BotoCoreError as exc:
            raise self._error("Không kiểm tra được tệp trong kho lưu trữ", exc) from exc
        value = head.get("Metadata", {}).get("sha256")
        return value if value and value != "pending" else None

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield the objects whose key starts with ``prefix``, in key order."""
        check_prefix(prefix)
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=item["Key"],
                        size=item["Size"],
                        last_modified=item["LastModified"].astimezone(UTC),
                    )
        except (ClientError, BotoCoreError) as exc:
            raise self._error("Không liệt kê được kho lưu trữ", exc) from exc

    def presigned_url(
        self, key: str, *, filename: str, expires: int = 300
    ) -> str | None:
        """Return a GET URL valid ``expires`` seconds (1–300) that downloads
        the object as an attachment named ``filename``, or ``None`` when
        presigned URLs are disabled (the default: the app streams instead)."""
        check_key(key)
        check_expires(expires)
        if not self._presigned:
            return None
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(filename),
                # A bearer URL's answer must not stay in a browser or proxy cache.
                "ResponseCacheControl": "no-store",
            },
            ExpiresIn=expires,
        )

    # -- maintenance -------------------------------------------------------

    def incomplete(self) -> Iterator[IncompleteUpload]:
        """Yield the bucket's multipart uploads that were never completed.

        ``put`` aborts its own on failure, but not when the endpoint was down
        at that moment or the worker was killed. Pair the sweep with a bucket
        lifecycle rule ``AbortIncompleteMultipartUpload`` where the server
        supports it.
        """
        paginator = self._client.get_paginator("list_multipart_uploads")
        try:
            for page in paginator.paginate(Bucket=self._bucket):
                for upload in page.get("Uploads", []):
                    yield IncompleteUpload(
                        key=upload["Key"],
                        ref=upload["UploadId"],
                        started=upload["Initiated"].astimezone(UTC),
                    )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(
                "Không liệt kê được các lượt tải lên dở dang", exc
            ) from exc

    def discard(self, upload: IncompleteUpload) -> None:
        """Abort the multipart upload, freeing its parts (idempotent)."""
        try:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=upload.key, UploadId=upload.ref
            )
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES | {"NoSuchUpload"}:
                return
            raise self._error("Không hủy được lượt tải lên dở dang", exc) from exc
        except BotoCoreError as exc:
            raise self._error("Không hủy được lượt tải lên dở dang", exc) from exc
        logger.info("aborted multipart upload %s of %s", upload.ref, upload.key)


class _S3Staged:
    """Push-mode upload into S3; see :meth:`S3Store.stage`."""

    def __init__(
        self,
        store: S3Store,
        key: str,
        content_type: str,
        *,
        record_digest: bool,
        size: int | None = None,
    ) -> None:
        self.key = key
        self._record_digest = record_digest
        self._declared = size
        # Declared: sent in one streamed PutObject while it arrives, whatever its
        # size (the server's work on it overlaps the parse, the checks, the rows).
        self._streamed = size is not None and size >= STREAM_FROM
        self._stream: _StreamedPut | None = None
        self._recent: deque[memoryview] = deque()  # a streamed upload's last bytes
        self._recent_size = 0
        self._store = store
        self._content_type = content_type
        # The bytes not sent yet, as written (joined once, into a part or the object).
        self._pending: list[memoryview] = []
        self._pending_size = 0
        self._whole: bytes | None = None  # a small upload, joined at finish
        self._hasher = AsideHasher()
        self._size = 0
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []
        self._sender: ThreadPoolExecutor | None = None
        self._inflight: deque[Future[CompletedPartTypeDef]] = deque()
        self._stored: StoredObject | None = None
        self._visible = False  # an object exists under the key
        self._putting: Future[StoredObject] | None = None  # a small upload's put
        self._head = b""  # the first KEPT_ENDS bytes, once a part went up
        self._tail = b""  # the last KEPT_ENDS bytes sent so far

    def _fail(self, exc: Exception) -> StorageError:
        logger.warning("evidence put %s failed: %r", self.key, exc)
        if isinstance(exc, StorageError):
            return exc
        return self._store._error("Không lưu được tệp vào kho lưu trữ", exc)

    def write(self, data: bytes) -> int:
        # ``data`` is kept as is until it is sent: the caller never changes it.
        self._hasher.update(data)
        self._size += len(data)
        if self._streamed:
            try:
                self._stream_out(memoryview(data).cast("B"))
            except Exception as exc:
                raise self._fail(exc) from exc
            return len(data)
        self._pending.append(memoryview(data).cast("B"))
        self._pending_size += len(self._pending[-1])
        part_size = self._store._part_size
        threshold = self._store._threshold
        try:
            if self._upload_id is None and self._pending_size > threshold:
                # Parts without ChecksumSHA256: botocore signs each part's payload
                # with its SHA-256, which the server checks (a second digest of the
                # same bytes, checked again, was a third of the cost on both ends);
                # the file's own SHA-256 and CRC-32 go into the database row.
                self._upload_id = self._store._create_multipart(
                    self.key, self._content_type, "pending", checksums=False
                )
            while self._upload_id is not None and self._pending_size > part_size:
                # Strictly more than one part: the last part may be short, the
                # others may not, so keep at least one byte for the end.
                part = self._take(part_size)
                if not self._head:
                    self._head = part[:KEPT_ENDS]
                self._tail = part[-KEPT_ENDS:]
                self._send(part)
        except Exception as exc:
            raise self._fail(exc) from exc
        return len(data)

    def _stream_out(self, view: memoryview) -> None:
        assert self._declared is not None
        if self._size > self._declared:
            raise _not_as_declared()
        if self._stream is None:
            self._stream = _StreamedPut(
                self._store, self.key, self._content_type, self._declared
            )
        # What validation reads at either end stays in memory (see KEPT_ENDS).
        if len(self._head) < KEPT_ENDS:
            self._head += view[: KEPT_ENDS - len(self._head)]
        self._recent.append(view)
        self._recent_size += len(view)
        while self._recent_size - len(self._recent[0]) >= KEPT_ENDS:
            self._recent_size -= len(self._recent.popleft())
        self._stream.write(view)

    def _take(self, size: int) -> bytes:
        """The first ``size`` pending bytes (all of them if fewer), joined: one copy."""
        pieces: list[memoryview] = []
        got = 0
        while self._pending and got < size:
            piece = self._pending[0]
            if got + len(piece) <= size:
                pieces.append(self._pending.pop(0))
                got += len(piece)
            else:
                pieces.append(piece[: size - got])
                self._pending[0] = piece[size - got :]
                got = size
        self._pending_size -= got
        return b"".join(pieces)

    def _send(self, data: bytes) -> None:
        # Up to PARTS_IN_FLIGHT parts go up on helper threads while the request body
        # is parsed into the next (boto3 and sockets release the GIL): memory ~ that
        # many parts, plus the one being filled.
        upload_id = self._upload_id
        assert upload_id is not None
        while len(self._inflight) >= PARTS_IN_FLIGHT:
            self._parts.append(self._inflight.popleft().result())
        number = len(self._parts) + len(self._inflight) + 1
        if self._sender is None:
            self._sender = ThreadPoolExecutor(
                PARTS_IN_FLIGHT, thread_name_prefix="s3-part"
            )
        self._inflight.append(
            self._sender.submit(
                self._store._upload_part, self.key, upload_id, number, data, None
            )
        )

    def _wait(self) -> None:
        """Every part in flight has ended; the first failure is raised, once all
        have (an abort must not race a part still going up)."""
        failure: BaseException | None = None
        while self._inflight:
            try:
                part = self._inflight.popleft().result()
            except BaseException as exc:  # noqa: BLE001 - raised below, after the rest
                failure = failure or exc
                continue
            if failure is None:
                self._parts.append(part)
        if failure is not None:
            raise failure

    def _stop_sender(self) -> None:
        if self._sender is not None:
            self._sender.shutdown(wait=True, cancel_futures=True)
            self._sender = None

    def finish(self) -> StoredObject:
        if self._stored is not None:
            return self._stored
        digest, crc32 = self._hasher.result()
        sha256 = digest.hexdigest()
        if self._streamed:
            # The body's end goes out; the server's answer is awaited only by what
            # needs the object (commit, a ranged read), so the checks and the rows
            # overlap the server's work.
            try:
                if self._stream is None or self._size != self._declared:
                    raise _not_as_declared()
                self._stream.end()
            except Exception as exc:
                raise self._fail(exc) from exc
            self._tail = b"".join(self._recent)[-KEPT_ENDS:]
            self._recent.clear()
        elif self._upload_id is None:
            self._whole = self._take(self._pending_size)
        else:
            try:
                last = self._take(self._pending_size)
                self._send(last)
                # What validation reads at the end is served from memory.
                self._tail = (
                    last[-KEPT_ENDS:]
                    if len(last) >= KEPT_ENDS
                    else self._tail[len(last) :] + last
                )
                self._wait()
                self._stop_sender()
                self._store._complete(self.key, self._upload_id, self._parts)
                self._upload_id = None
                self._visible = True
                if self._record_digest:
                    self._store._set_metadata(self.key, self._content_type, sha256)
            except Exception as exc:
                raise self._fail(exc) from exc
        self._stored = StoredObject(self.key, self._size, sha256, crc32)
        return self._stored

    def _stored_stream(self) -> None:
        """A streamed upload's PutObject has ended: the object is visible."""
        if self._stream is not None:
            try:
                self._stream.answer()
            except Exception as exc:
                raise self._fail(exc) from exc
            self._stream = None
            self._visible = True

    def _in_memory(self) -> bytes | None:
        """A streamed upload's whole bytes, if its kept ends hold them all."""
        rest = self._size - len(self._head)
        if rest <= 0:
            return self._head
        return self._head + self._tail[-rest:] if rest <= len(self._tail) else None

    def open_staged(self) -> BinaryIO:
        whole = self._in_memory() if self._streamed else self._whole
        if whole is not None or not (self._visible or self._streamed):
            return io.BytesIO(whole or b"")  # shares the bytes, no copy
        raw = _RangeReader(
            self._store, self.key, self._size, self._head, self._tail,
            before_get=self._stored_stream,
        )  # fmt: skip
        return io.BufferedReader(raw, buffer_size=256 * 1024)

    def start_commit(self) -> None:
        self.finish()
        if self._visible or self._streamed or self._putting is not None:
            return  # a large or streamed upload is on its way since it arrived
        # A small upload goes up on a helper thread while the caller writes its rows.
        self._putting = shared_pool("s3-put", 8).submit(
            self._store._put_single,
            self.key,
            self._whole or b"",
            self._content_type,
            self._hasher.result()[0],
        )

    def commit(self) -> None:
        self.start_commit()
        self._stored_stream()
        putting, self._putting = self._putting, None
        if putting is not None:
            try:
                putting.result()
            except Exception as exc:
                raise self._fail(exc) from exc
            self._visible = True
            self._whole = None

    def abort(self) -> None:
        if self._putting is not None:  # begun, never confirmed: it must end first
            with contextlib.suppress(Exception):
                self._putting.result()
                self._visible = True  # stored: deleted below
            self._putting = None
        with contextlib.suppress(Exception):
            self._wait()  # the part in flight must end before the abort
        self._stop_sender()
        if self._stream is not None:  # cut off: the server stores nothing
            self._visible = self._stream.abort() or self._visible
            self._stream = None
        self._recent.clear()
        if self._upload_id is not None:
            self._store._abort(self.key, self._upload_id)
            self._upload_id = None
        if self._visible:
            self._store._delete_quietly(self.key)
            self._visible = False
        self._hasher.result()  # the hashing thread ends with the stage
        self._pending, self._pending_size, self._whole = [], 0, None


#: GETs sent ahead at once (one dossier reads one file ahead), and how long an
#: unclaimed answer is kept before it is closed.
PREFETCHES = 4
PREFETCH_FOR = 5.0


def _close_answer(future: Future[Any]) -> None:
    """Close a prefetched GET nobody will read (its connection goes back)."""
    with contextlib.suppress(Exception):
        future.result()["Body"].close()


#: Declared uploads this long or longer are streamed (below, one buffered PutObject
#: costs less than a sender thread).
STREAM_FROM = 64 << 10
#: Chunks of a streamed PutObject written but not sent yet (each up to the parser's
#: MiB): the request's thread waits for the sender beyond that, memory stays flat.
STREAM_QUEUE = 4
#: Streamed PutObjects sent at once per process (gunicorn's threads, and more).
STREAM_SENDERS = 32


class _StreamAborted(Exception):
    """Raised in botocore's sending thread to cut a streamed PutObject off."""


class _PutPipe(io.RawIOBase):
    """The body of a streamed PutObject: botocore's sender reads what the upload's
    thread queued, in the pieces it asks for (views, not copies)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.chunks: queue.Queue[memoryview | None] = queue.Queue(STREAM_QUEUE)
        self.aborted = threading.Event()
        self._current = memoryview(b"")
        self._ended = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        while not self._current and not self._ended:
            try:
                item = self.chunks.get(timeout=0.1)
            except queue.Empty:
                item = memoryview(b"")
            if self.aborted.is_set():
                raise _StreamAborted()
            if item is None:
                self._ended = True
            else:
                self._current = item
        end = len(self._current) if size is None or size < 0 else size
        piece, self._current = self._current[:end], self._current[end:]
        # A view: http.client hands it to sendall, which takes any buffer.
        return cast(bytes, piece)


class _StreamedPut:
    """An object sent as one PutObject while it is written, its size declared first:
    the upload's thread queues the bytes, a sender thread of its own sends them."""

    def __init__(self, store: S3Store, key: str, content_type: str, size: int) -> None:
        self._pipe = _PutPipe(size)
        # A pool, not a thread per upload: starting one cost ~1.5 ms of a 1 MiB
        # upload. Beyond STREAM_SENDERS uploads at once, the others wait their turn
        # (each sender depends on its own upload's thread only: no deadlock).
        self._sent = shared_pool("s3-stream", STREAM_SENDERS).submit(
            store._put_streamed, key, self._pipe, content_type
        )

    def _queue(self, item: memoryview | None) -> None:
        while True:
            if self._sent.done():  # the server answered (an error) before the end
                self._sent.result()
                raise _not_as_declared()
            try:
                self._pipe.chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def write(self, view: memoryview) -> None:
        self._queue(view)

    def end(self) -> None:
        """Send the end of the body (raises the server's error if it answered)."""
        self._queue(None)

    def answer(self) -> None:
        """Wait for the server's answer to the whole body (raises its error)."""
        self._sent.result()

    def abort(self) -> bool:
        """Cut the PutObject off; whether it was stored all the same (it ended)."""
        self._pipe.aborted.set()
        try:
            self._sent.result()
            stored = True
        except Exception:  # noqa: BLE001 - cut off, as asked
            stored = False
        return stored


def _not_as_declared() -> StorageError:
    return StorageError(
        "Không lưu được tệp vào kho lưu trữ: số byte nhận được không khớp kích "
        "thước tệp trình duyệt đã báo. Hãy tải tệp lên lại."
    )


def _sign_streams_unsigned(request: Any, **_: Any) -> None:
    """A streamed PutObject cannot be hashed before it is sent, as SigV4 over plain
    HTTP would: it goes as UNSIGNED-PAYLOAD, botocore's own choice over HTTPS. The
    file's SHA-256, taken as it arrives, is in the database row and checked on read."""
    if isinstance(request.body, _PutPipe):
        config = request.context.get("client_config") or Config()
        s3 = {**(getattr(config, "s3", None) or {}), "payload_signing_enabled": False}
        request.context["client_config"] = config.merge(Config(s3=cast(Any, s3)))


class _RangeReader(io.RawIOBase):
    """Seekable reads of a stored object: its first bytes ``head`` and last bytes
    ``tail`` from memory, the rest by ranged GETs (validation of a staged upload reads
    a bounded number of bytes, mostly at the head and the tail)."""

    def __init__(
        self,
        store: S3Store,
        key: str,
        size: int,
        head: bytes = b"",
        tail: bytes = b"",
        before_get: Callable[[], None] | None = None,
    ) -> None:
        self._before_get = before_get  # the object may still be on its way
        self._store = store
        self._key = key
        self._size = size
        self._pos = 0
        self._head = head
        self._tail = tail
        self._tail_at = size - len(tail)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}
        self._pos = max(0, base[whence] + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        end = min(self._size, self._pos + len(view))
        if end <= self._pos:
            return 0
        if self._pos < len(self._head):
            data = self._head[self._pos : end]
        elif self._pos >= self._tail_at:
            data = self._tail[self._pos - self._tail_at : end - self._tail_at]
        else:
            data = self._get(min(end, self._tail_at))
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _get(self, end: int) -> bytes:
        if self._before_get is not None:
            self._before_get()
        store = self._store
        try:
            body = store._client.get_object(
                Bucket=store._bucket,
                Key=self._key,
                Range=f"bytes={self._pos}-{end - 1}",
            )["Body"]
            data: bytes = body.read()
        except (ClientError, BotoCoreError) as exc:
            raise store._error("Không đọc được tệp từ kho lưu trữ", exc) from exc
        return data


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _changed_while_storing() -> StorageError:
    return StorageError(
        "Không lưu được tệp vào kho lưu trữ: tệp bị thay đổi khi đang lưu."
    )


@dataclass(frozen=True)
class _PartPlan:
    """A seekable source's digest and its parts' sizes and digests (base64)."""

    sha256: str
    size: int
    sizes: tuple[int, ...]
    parts: tuple[str, ...]


def _plan_parts(fileobj: BinaryIO, part_size: int) -> _PartPlan:
    """Hash the rest of ``fileobj`` whole and part by part, in one pass.

    Reads CHUNK_SIZE pieces, split at part boundaries when ``part_size`` is
    not a multiple of it, so memory stays at one piece.
    """
    whole = hashlib.sha256()
    part = hashlib.sha256()
    in_part = 0
    sizes: list[int] = []
    parts: list[str] = []
    while chunk := fileobj.read(CHUNK_SIZE):
        whole.update(chunk)
        view = memoryview(chunk)
        while view:
            take = min(len(view), part_size - in_part)
            part.update(view[:take])
            in_part += take
            view = view[take:]
            if in_part == part_size:
                sizes.append(in_part)
                parts.append(_b64(part.digest()))
                part, in_part = hashlib.sha256(), 0
    if in_part or not parts:
        sizes.append(in_part)
        parts.append(_b64(part.digest()))
    if len(parts) > MAX_PARTS:
        raise StorageError(
            "Không lưu được tệp vào kho lưu trữ: tệp quá lớn so với cỡ phần tải lên."
        )
    return _PartPlan(whole.hexdigest(), sum(sizes), tuple(sizes), tuple(parts))
