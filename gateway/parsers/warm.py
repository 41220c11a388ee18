"""Warm sandboxed readers: a child of the fork server that reads document after document.

A child forked per document pays more than the fork: its first read faults in every page
the readers write (about 9,400 page faults and 40-50 ms of CPU for a 12 MP label photo,
against a few dozen on the next read in the same process) and the fork itself (5-8 ms).
For a scanner waiting at the dock that doubled the cost of a read. A `WarmReader` is a
child forked once by the fork server that reads up to `max_documents` documents, one at a
time, on the same pipes (the frame protocol is in `gateway.parsers.child`), with the same
sandbox:

* `RLIMIT_AS`, `RLIMIT_FSIZE`, no core dumps, its own session, the same short environment;
  the CPU limit is each document's allowance on top of what the process has used so far;
* a wall-clock limit per document, after which its process group is killed;
* the same cap on each result's bytes, and the same outcomes (`ResourceLimitExceeded`
  naming the limit or the signal, or the reader's `InputError`).

A reader also draws a scan's marked-up photo (`ReaderPool.annotate`: the photo decoded and
drawn in the child, a job of the kind `gateway.parsers.child.ANNOTATE`), a job like any
other under the same limits, so the web process never decodes a photo.

A reader that crashed, overran, was killed or answered anything but a result is never used
again: the document that did it gets the error, the next one a fresh child. A reader also
exits after any document it could not read (the child does that itself) and after
`max_documents`.

`ReaderPool` keeps a few idle readers per process and hands each to one document at a
time; a reader serves one key only (the tenant), so whatever a hostile document could leave
in a reader's memory is never seen by another tenant's document. When no reader can be
started (the fork server is gone or was started with another pixel cap), the document goes
to a child of its own (`run_sandboxed`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import selectors
import signal
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gateway.domain import Extraction
from gateway.parsers.child import ANNOTATE
from gateway.parsers.limits import Limits, check_size
from gateway.parsers.sandbox import (
    ForkServer,
    child_result,
    failure_advice,
    recv_exact,
    result_extraction,
    run_sandboxed,
    shared_fork_server,
)

_FRAME = struct.Struct("!qq")  # the job's and the document's sizes
_SIZE = struct.Struct("!q")  # the result's size
_STATUS = 8

# documents per reader before a fresh one takes over: bounds what a long life could gather
# (memory fragments, a state no test found) at one fork and one cold first read per hundred
MAX_DOCUMENTS = 100


class ReaderGone(Exception):
    """The warm reader could not take the document (it died before it was handed over)."""


class WarmReader:
    """One sandboxed child, forked by `server`, reading documents under `limits`."""

    def __init__(self, server: ForkServer, limits: Limits, max_documents: int = MAX_DOCUMENTS):
        self.limits = limits
        self.max_documents = max_documents
        self.served = 0
        self.dead = False
        self.owner = os.getpid()
        self._workdir = tempfile.TemporaryDirectory(prefix="gateway-reader-")
        job = {
            "serve": max_documents,
            "workdir": self._workdir.name,
            "limits": dataclasses.asdict(limits),
        }
        doc_in, self._doc_w = os.pipe()
        self._result_r, result_out = os.pipe()
        try:
            try:
                self.pid, self._status = server.start_child(
                    json.dumps(job).encode(), doc_in, result_out
                )
            finally:
                os.close(doc_in)
                os.close(result_out)
        except OSError:
            os.close(self._doc_w)
            os.close(self._result_r)
            self._workdir.cleanup()
            raise

    def usable(self) -> bool:
        """Alive, in the process that started it, with documents left to read."""
        return not self.dead and self.owner == os.getpid() and self.served < self.max_documents

    def read(self, data: bytes, *, filename: str, document_id: str) -> Extraction:
        """The document's extraction, read by this child.

        Raises:
            ReaderGone: the child was dead before it had the document (read it elsewhere).
            ResourceLimitExceeded, InputError: as `extract_sandboxed`.
        """
        return result_extraction(self.run({"filename": filename, "document_id": document_id}, data))

    def run(self, job: dict[str, Any], data: bytes) -> dict[str, Any]:
        """The child's result of one job on `data` (a document to read, or a photo to mark:
        see `gateway.parsers.child.parse`), under this reader's limits.

        Raises what `read` raises.
        """
        limits = self.limits
        frame_job = json.dumps({**job, "limits": dataclasses.asdict(limits)}).encode()
        deadline = time.monotonic() + limits.wall_seconds
        self.served += 1
        output, ended = _exchange(
            self._doc_w,
            self._result_r,
            [_FRAME.pack(len(frame_job), len(data)), frame_job, data],
            limits.max_output_bytes,
            deadline,
        )
        if ended == "refused":  # dead before it took the document: nothing was read
            self.close()
            raise ReaderGone(ended)
        if ended:  # the child ended, or is ended now, on this document
            self._kill()
            returncode = self._returncode() if ended == "eof" else None
            self.close()
            return child_result(
                returncode,
                b"",
                ended == "timeout",
                ended == "too_big",
                limits,
                failure_advice(data),
            )
        try:
            return child_result(0, output, False, False, limits, failure_advice(data))
        except Exception:
            self.close()  # the child exits after a document it could not read
            raise

    def _returncode(self) -> int | None:
        """How the child ended, from the fork server (which reaped it)."""
        self._status.settimeout(5.0)
        try:
            status = recv_exact(self._status, _STATUS)
        except OSError:
            return None
        if status is None:
            return None
        return os.waitstatus_to_exitcode(int.from_bytes(status, "big", signed=True))

    def _kill(self) -> None:
        if self.owner == os.getpid():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    def close(self) -> None:
        """Let the child go: at the end of its input it exits (the fork server reaps it)."""
        if self.owner != os.getpid():
            return  # a fork's copy: the descriptors are the starting process's to close
        if not self.dead:
            self.dead = True
            for fd in (self._doc_w, self._result_r):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._status.close()
            self._workdir.cleanup()


def _exchange(
    doc_w: int, result_r: int, frame: list[bytes], cap: int, deadline: float
) -> tuple[bytes, str]:
    """Write one document frame and read its one answer frame, by the deadline.

    Returns (the answer, "") or (b"", why there is none): "refused" when the child was gone
    before it took any of the frame, "eof" when it ended later without a whole answer,
    "timeout" at the deadline, "too_big" when the answer is larger than `cap`.
    """
    views = [memoryview(part) for part in frame if part]
    written = 0
    header = b""
    size: int | None = None
    chunks: list[bytes] = []
    got = 0
    sel = selectors.DefaultSelector()
    os.set_blocking(doc_w, False)
    sel.register(doc_w, selectors.EVENT_WRITE)
    sel.register(result_r, selectors.EVENT_READ)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return b"", "timeout"
            for key, _ in sel.select(timeout=min(remaining, 0.5)):
                if key.fd == doc_w:
                    try:
                        n = os.writev(doc_w, views[:8])
                    except BrokenPipeError:
                        return b"", "refused" if written == 0 else "eof"
                    written += n
                    while views and n >= len(views[0]):
                        n -= len(views[0])
                        views.pop(0)
                    if views and n:
                        views[0] = views[0][n:]
                    if not views:
                        sel.unregister(doc_w)
                    continue
                chunk = os.read(result_r, 65536)
                if not chunk:
                    return b"", "refused" if written == 0 else "eof"
                if size is None:
                    header += chunk
                    if len(header) < _SIZE.size:
                        continue
                    size = _SIZE.unpack(header[: _SIZE.size])[0]
                    chunk = header[_SIZE.size :]
                got += len(chunk)
                if got > size or size > cap:  # over the cap, or more than it announced
                    return b"", "too_big"
                chunks.append(chunk)
                if got == size and not views:
                    return b"".join(chunks), ""
    finally:
        sel.close()


class ReaderPool:
    """Idle warm readers of one process, by key, at most `max_idle` of them kept."""

    def __init__(
        self,
        limits: Limits,
        *,
        max_idle: int = 2,
        max_documents: int = MAX_DOCUMENTS,
        server: Callable[[], ForkServer | None] = shared_fork_server,
    ) -> None:
        self.limits = limits
        self.max_idle = max_idle
        self.max_documents = max_documents
        self._server = server
        self._idle: list[tuple[str, WarmReader]] = []  # oldest first
        self._lock = threading.Lock()
        self.owner = os.getpid()

    def read(self, data: bytes, *, key: str, filename: str, document_id: str) -> Extraction:
        """The document read by a warm reader of `key` (or, failing one, a child of its own).

        Raises what `extract_sandboxed` raises.
        """
        job = {"filename": filename, "document_id": document_id}
        return result_extraction(self._run(job, data, key))

    def annotate(self, data: bytes, *, key: str, marks: Sequence[Mapping[str, Any]]) -> bytes:
        """The label photo as a JPEG with its `marks` drawn (`gateway.parsers.image.mark_photo`),
        decoded and drawn by a warm reader of `key` (or a child of its own), under the same
        limits as a read.

        Raises what `extract_sandboxed` raises.
        """
        job = {"kind": ANNOTATE, "marks": [dict(mark) for mark in marks]}
        return base64.b64decode(self._run(job, data, key)["jpeg"])

    def _run(self, job: dict[str, Any], data: bytes, key: str) -> dict[str, Any]:
        """The job's result from a warm reader of `key`, or from a child of its own when no
        reader could take it."""
        check_size(data, self.limits)
        for _ in range(2):  # an idle reader found dead is replaced once
            reader = self._take(key)
            if reader is None:
                break
            try:
                result = reader.run(job, data)
            except ReaderGone:
                reader.close()
                continue
            except BaseException:
                reader.close()
                raise
            self._give_back(key, reader)
            return result
        return run_sandboxed(data, job, self.limits, server=self._server())

    def _take(self, key: str) -> WarmReader | None:
        with self._lock:
            if self.owner != os.getpid():  # a fork of the process that filled the pool
                self._idle = []
                self._lock = threading.Lock()
                self.owner = os.getpid()
            for index, (owner, reader) in enumerate(self._idle):
                if owner == key:
                    del self._idle[index]
                    if reader.usable():
                        return reader
                    reader.close()
                    break
        server = self._server()
        if server is None or server.max_image_pixels != self.limits.max_image_pixels:
            return None
        try:
            return WarmReader(server, self.limits, self.max_documents)
        except OSError:
            return None

    def _give_back(self, key: str, reader: WarmReader) -> None:
        if not reader.usable():
            reader.close()
            return
        with self._lock:
            self._idle.append((key, reader))
            retired = self._idle[: -self.max_idle] if len(self._idle) > self.max_idle else []
            del self._idle[: len(retired)]
        for _, old in retired:
            old.close()

    def close(self) -> None:
        """Let every idle reader go."""
        with self._lock:
            idle, self._idle = self._idle, []
        for _, reader in idle:
            reader.close()
