"""Uploads written once: the multipart body is parsed straight into the store.

Werkzeug's parser asks the request for a file object per uploaded file
(`Request._get_file_stream`); on the upload routes that object is an `IntakeFile`
writing into a store stage (the local backend's temporary file beside its target,
or S3 parts), hashing as it goes and refusing a bad name, a dangerous head or an
oversize file while the bytes still arrive. The service then validates the whole
staged file, commits it or aborts it. A stage nobody committed is aborted when the
request ends, whatever happened (CSRF refusal, error, crash of the view).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any, BinaryIO

from flask import Request, request
from werkzeug.formparser import FormDataParser, MultiPartParser

from evidence_store import (
    EvidenceStore,
    Staged,
    StorageError,
    StoredObject,
    UploadLimits,
    UploadRejected,
    check_head,
)
from evidence_store.validation import HEAD_SIZE

ENVIRON_KEY = "parindex.intake"


class IntakeFile(io.RawIOBase):
    """One uploaded file as Werkzeug writes it, then as the service reads it back."""

    def __init__(self, staged: Staged, filename: str, limits: UploadLimits) -> None:
        super().__init__()
        self.staged = staged
        self.filename = filename
        self._limits = limits
        self._head = bytearray()
        self._size = 0
        self.refusal: UploadRejected | None = None
        self.failure: StorageError | None = None
        self._reader: BinaryIO | None = None
        self.settled = False  # committed or aborted

    # -- written by the parser ------------------------------------------------------

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = len(data)
        if self.refusal or self.failure:
            return size  # the rest of the body is read and dropped
        self._size += size
        head_was_short = len(self._head) < HEAD_SIZE
        if head_was_short:
            self._head += data[: HEAD_SIZE - len(self._head)]
        # The head is checked once, when it is complete; the size on every write.
        if (
            head_was_short and len(self._head) >= HEAD_SIZE
        ) or self._size > self._limits.max_bytes:
            self._check()
            if self.refusal:
                return size
        try:
            self.staged.write(bytes(data))
        except StorageError as exc:
            self.failure = exc
            self.abort()
        return size

    def _check(self) -> None:
        try:
            check_head(bytes(self._head), self.filename, self._limits, size=self._size)
        except UploadRejected as exc:
            self.refusal = exc
            self.abort()

    # -- read back by the service ---------------------------------------------------

    def finish(self) -> StoredObject:
        """All bytes durable in the stage; raise a refusal or failure met on the way."""
        if not (self.refusal or self.failure):
            self._check()  # a file shorter than the head was not checked yet
        if self.refusal:
            raise self.refusal
        if self.failure:
            raise self.failure
        return self.staged.finish()

    def commit(self) -> None:
        self.staged.commit()
        self.settled = True

    def abort(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self.staged.abort()
        self.settled = True

    def _source(self) -> BinaryIO:
        if self._reader is None:
            self._reader = self.staged.open_staged()
        return self._reader

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self._reader is None and offset == 0 and whence == io.SEEK_SET:
            return 0  # the parser rewinds when it is done writing: nothing to do
        return self._source().seek(offset, whence)

    def tell(self) -> int:
        return self._source().tell() if self._reader is not None else 0

    def readinto(self, buffer: Any) -> int:
        return self._source().readinto(buffer)  # type: ignore[attr-defined,no-any-return]

    def read(self, size: int | None = -1) -> bytes:
        return self._source().read(-1 if size is None else size)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        super().close()


class Intake:
    """The files of one upload request; each goes into a stage of ``store``."""

    def __init__(
        self, store: EvidenceStore, new_key: Callable[[], str], limits: UploadLimits
    ) -> None:
        self._store = store
        self._new_key = new_key
        self._limits = limits
        self.files: list[IntakeFile] = []

    def open(self, filename: str, content_type: str | None) -> IntakeFile:
        staged = self._store.stage(
            self._new_key(), content_type=content_type or "application/octet-stream"
        )
        intake = IntakeFile(staged, filename, self._limits)
        self.files.append(intake)
        return intake

    def close(self) -> None:
        """Abort every stage no service committed, then close the readers."""
        for intake in self.files:
            if not intake.settled:
                intake.abort()
            intake.close()


def stream_uploads_into(
    store: EvidenceStore, new_key: Callable[[], str], limits: UploadLimits
) -> None:
    """Make this request's multipart files go straight into ``store``: call before
    anything reads ``request.form`` or ``request.files``."""
    request.environ[ENVIRON_KEY] = Intake(store, new_key, limits)


def close_intake() -> None:
    """End of request: what nobody committed leaves no trace."""
    intake = request.environ.pop(ENVIRON_KEY, None)
    if intake is not None:
        intake.close()


#: The multipart parser's read size: each read is one write into the stage (hash,
#: CRC, write) and one pass of the parser's Python loop, so large rather than 64 KiB;
#: the decoder refuses to hold more than max_form_memory_size at once, so at most half.
PARSE_BUFFER = 1 << 20


class _FormParser(FormDataParser):
    def _parse_multipart(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> Any:
        parser = MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            buffer_size=min(PARSE_BUFFER, (self.max_form_memory_size or 1 << 30) // 2),
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class StreamingRequest(Request):
    """Flask's request, whose uploaded files go into the store on upload routes."""

    form_data_parser_class = _FormParser

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        intake = self.environ.get(ENVIRON_KEY)
        if intake is not None:
            return intake.open(filename or "", content_type)  # type: ignore[no-any-return]
        return super()._get_file_stream(
            total_content_length, content_type, filename, content_length
        )
