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
import re
import socket
from collections.abc import Callable
from typing import IO, Any, BinaryIO, cast

from flask import Request, request
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import (
    LINE_BREAK_RE,
    NEED_DATA,
    Data,
    Epilogue,
    Event,
    Field,
    File,
    MultipartDecoder,
    NeedData,
    State,
)

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
            # ``data`` is the parser's own buffer (see _Decoder), never reused: no copy.
            self.staged.write(data)
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

    def start_commit(self) -> None:
        """Begin making the file visible; :meth:`commit` waits for it (see Staged)."""
        self.staged.start_commit()

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
        self,
        store: EvidenceStore,
        new_key: Callable[[], str],
        limits: UploadLimits,
        declared_size: int | None = None,
    ) -> None:
        self._store = store
        self._new_key = new_key
        self._limits = limits
        self._declared_size = declared_size
        self.files: list[IntakeFile] = []

    def open(self, filename: str, content_type: str | None) -> IntakeFile:
        staged = self._store.stage(
            self._new_key(),
            content_type=content_type or "application/octet-stream",
            # The widget's header says how long its one file is.
            size=self._declared_size if not self.files else None,
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


#: The upload widget's header: the byte size of the one file its request carries.
SIZE_HEADER = "X-Upload-Size"


def declared_size(limits: UploadLimits) -> int | None:
    """The file size the request declares, if it is a plausible one."""
    value = request.headers.get(SIZE_HEADER, "")
    if not value.isascii() or not value.isdigit() or len(value) > 15:
        return None
    size = int(value)
    # Over the limit: the intake refuses the file as it arrives, as for anyone.
    return size if size <= limits.max_bytes else None


def stream_uploads_into(
    store: EvidenceStore, new_key: Callable[[], str], limits: UploadLimits
) -> None:
    """Make this request's multipart files go straight into ``store``: call before
    anything reads ``request.form`` or ``request.files``."""
    request.environ[ENVIRON_KEY] = Intake(store, new_key, limits, declared_size(limits))


def close_intake() -> None:
    """End of request: what nobody committed leaves no trace."""
    intake = request.environ.pop(ENVIRON_KEY, None)
    if intake is not None:
        intake.close()


#: The multipart parser's read size: the read-ahead of gunicorn's body reader
#: (``SocketUnreader.max_body_chunk``), so that each read takes what it holds instead
#: of leaving a surplus it copies again on every smaller read; one write into the
#: stage (hash, CRC, write) and one pass of the parser's loop per MiB.
PARSE_BUFFER = 1 << 20
#: The first MiB of a body is read in pieces this long: a streamed PutObject then
#: starts while the rest still arrives, so the S3 server reads (and, as moto does,
#: digests) the body alongside the parse instead of after it (bench/http.py, 1 MiB
#: uploads to moto: 33-36 → 39-41 MiB/s; local and 40 MiB uploads unchanged).
FIRST_READS = 256 << 10
#: File data at least this long leaves the decoder as its own buffer, not copied.
_HAND_OVER = 64 << 10
_ZEROS = bytes(PARSE_BUFFER)  # room for one read, filled in place
_ZEROS_VIEW = memoryview(_ZEROS)


class _Decoder(MultipartDecoder):
    """Werkzeug's decoder, with two changes for file data.

    ``max_form_memory_size`` bounds what the decoder holds unparsed (a preamble or part
    headers still looking for their end), checked before each read is added, so reads
    may be larger than the cap; the parser bounds each field's value itself. And a large
    piece of part data is handed over as the buffer it sits in (the few bytes after it
    move to a new buffer) instead of being copied out and deleted.
    """

    def receive_data(self, data: bytes | None) -> None:
        if data is None:
            self.complete = True
            return
        if (
            self.max_form_memory_size is not None
            and len(self.buffer) > self.max_form_memory_size
        ):
            raise RequestEntityTooLarge()
        self.buffer += data

    def read_from(self, stream: IO[bytes], size: int) -> int:
        """Append up to ``size`` bytes of ``stream`` to the buffer, read straight
        into it; the count read (0: the end)."""
        if (
            self.max_form_memory_size is not None
            and len(self.buffer) > self.max_form_memory_size
        ):
            raise RequestEntityTooLarge()
        readinto = getattr(stream, "readinto", None)
        if readinto is None:  # a bare wsgi.input (chunked, no size limit)
            data = stream.read(size)
            self.buffer += data
            return len(data)
        held = len(self.buffer)
        self.buffer += _ZEROS if size == PARSE_BUFFER else _ZEROS_VIEW[:size]
        with memoryview(self.buffer) as view, view[held:] as into:
            got = readinto(into) or 0
        del self.buffer[held + got :]
        return int(got)

    def next_event(self) -> Event:
        if self.state not in (State.DATA_START, State.DATA):
            return super().next_event()
        start = self.state == State.DATA_START
        data_start, data_end, del_index, more_data = self._locate(start=start)
        data: bytes | bytearray
        if data_end - data_start >= _HAND_OVER:
            data = held = self.buffer
            self.buffer = held[del_index:]
            del held[data_end:]
            del held[:data_start]  # at the front: an offset move, not a copy
        else:
            data = bytes(self.buffer[data_start:data_end])
            del self.buffer[:del_index]
        if start:
            if more_data:
                self.state = State.DATA
            return Data(data=data, more_data=more_data)  # type: ignore[arg-type]
        if data or not more_data:
            return Data(data=data, more_data=more_data)  # type: ignore[arg-type]
        if self.complete:
            raise ValueError(f"Invalid form-data cannot parse beyond {self.state}")
        return NEED_DATA

    def _locate(self, *, start: bool) -> tuple[int, int, int, bool]:
        """Werkzeug's ``_parse_data`` as offsets into the buffer, without slicing it."""
        data = self.buffer
        if start:
            match = LINE_BREAK_RE.match(data)
            data_start = cast(re.Match[bytes], match).end()
        else:
            data_start = 0
        found = None
        at = data.find(b"--" + self.boundary)
        if at != -1:
            # A boundary starts with its line break (one or two bytes), so none
            # begins before the first "--boundary": the regex scans from there,
            # not over the MiB of file data before it (10 ms per MiB).
            found = self.boundary_re.search(data, max(0, at - 2))
        if found is None:
            partial = self._partial_at(data_start)
            return data_start, partial, partial, True
        if found.group(1).startswith(b"--"):
            self.state = State.EPILOGUE
        else:
            self.state = State.PART
        return data_start, found.start(), found.end(), False

    def _partial_at(self, start: int) -> int:
        """Where a boundary cut by the end of the buffer could begin (its end if
        nowhere): ``_last_partial_boundary_index`` of the buffer from ``start``."""
        data = self.buffer
        end = len(data)
        complete = end - len(b"\r\n--" + self.boundary)
        found = end
        for char in (b"\n", b"\r"):
            at = data.rfind(char, start)
            if at != -1 and at >= complete:
                found = min(found, at)
        return found


class _MultiPartParser(MultiPartParser):
    def parse(
        self, stream: IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        """Werkzeug's loop, over :class:`_Decoder` reading ``buffer_size`` at a time."""
        current: Field | File | None = None
        field_size: int | None = None
        container: IO[bytes] | list[bytes] = []
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        parser = _Decoder(
            boundary,
            max_form_memory_size=self.max_form_memory_size,
            max_parts=self.max_form_parts,
        )
        read = 0
        while True:
            size = self.buffer_size if read >= PARSE_BUFFER else FIRST_READS
            got = parser.read_from(stream, size)
            if not got:
                parser.receive_data(None)
            read += got
            event = parser.next_event()
            while not isinstance(event, (Epilogue, NeedData)):
                if isinstance(event, Field):
                    current, field_size, container = event, 0, []
                elif isinstance(event, File):
                    current, field_size = event, None
                    container = self.start_file_streaming(event, content_length)
                elif isinstance(event, Data):
                    if self.max_form_memory_size is not None and field_size is not None:
                        field_size += len(event.data)
                        if field_size > self.max_form_memory_size:
                            raise RequestEntityTooLarge()
                    if isinstance(container, list):
                        container.append(event.data)
                    else:
                        container.write(event.data)
                    if not event.more_data:
                        if isinstance(current, Field):
                            assert isinstance(container, list)
                            value = b"".join(container).decode(
                                self.get_part_charset(current.headers), "replace"
                            )
                            fields.append((current.name, value))
                        elif isinstance(current, File):
                            assert not isinstance(container, list)
                            container.seek(0)
                            files.append(
                                (
                                    current.name,
                                    FileStorage(
                                        container,
                                        current.filename,
                                        current.name,
                                        headers=current.headers,
                                    ),
                                )
                            )
                event = parser.next_event()
            if parser.complete:
                break
        return self.cls(fields), self.cls(files)


class _FormParser(FormDataParser):
    def _parse_multipart(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> Any:
        parser = _MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            buffer_size=PARSE_BUFFER,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class _SocketBody(io.RawIOBase):
    """A request body of known length read from gunicorn's socket into the parser's
    buffer: one copy per byte, where gunicorn's own reader and Werkzeug's stream on
    top of it copy each byte five times more (40 MiB read in 10 ms here, not 16-22).

    What gunicorn read ahead with the headers comes first; the body's remaining
    length is kept in gunicorn's reader, so after the request it drains nothing and
    parses the next request on the connection where it starts. On a failed read the
    body is marked failed and gunicorn closes the connection instead of reusing it.
    """

    def __init__(self, body: Any, length: int) -> None:
        super().__init__()
        self._body = body
        self._reader = body.reader
        self._sock = self._reader.unreader.sock
        held = self._reader.unreader.take_buffered()
        if len(held) > length:  # a pipelined next request: gunicorn's again
            self._reader.unreader.unread(held[length:])
            held = held[:length]
        self._held = memoryview(held)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._reader.length
        if left <= 0:
            return 0
        into = memoryview(buffer).cast("B")[:left]
        if self._held:
            got = min(len(into), len(self._held))
            into[:got] = self._held[:got]
            self._held = self._held[got:]
        else:
            # The whole buffer at once, as gunicorn's reader does: the parser's pass
            # over each read costs the same for 64 KiB as for the MiB it asks for.
            try:
                got = self._sock.recv_into(into, 0, socket.MSG_WAITALL)
            except OSError as exc:
                self._body.failed = True
                raise ClientDisconnected() from exc
            if not got:
                self._body.failed = True
                raise ClientDisconnected()
        self._reader.length = left - got
        return got


def _gunicorn_body(environ: dict[str, Any], length: int | None) -> _SocketBody | None:
    """The direct reader, if this body is gunicorn's, of known length, unread."""
    try:
        from gunicorn.http.body import Body, LengthReader
        from gunicorn.http.unreader import SocketUnreader
    except ImportError:  # another WSGI server (the tests' own, say)
        return None
    body: Any = environ.get("wsgi.input")
    if (
        length is None
        or type(body) is not Body
        or type(body.reader) is not LengthReader
        or type(body.reader.unreader) is not SocketUnreader
        or body.reader.length != length
        or body.buf.tell()
    ):
        return None
    return _SocketBody(body, length)


class StreamingRequest(Request):
    """Flask's request, whose uploaded files go into the store on upload routes."""

    form_data_parser_class = _FormParser

    def _get_stream_for_parsing(self) -> IO[bytes]:
        # Werkzeug's stream first: it refuses a body over MAX_CONTENT_LENGTH.
        stream = super()._get_stream_for_parsing()
        # Only on upload routes: elsewhere, bodies are small and Werkzeug's is fine.
        if ENVIRON_KEY in self.environ and getattr(self, "_cached_data", None) is None:
            direct = _gunicorn_body(self.environ, self.content_length)
            if direct is not None:
                return cast(IO[bytes], direct)
        return stream

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
