"""The parser sandbox's children: one document per process, in one of two ways.

* `python -m gateway.parsers.child JOB` (cold start): reads the document from stdin, the job
  (JSON) from argv, prints one JSON object on stdout: `{"ok": true, "extraction": {...}}` (in
  `gateway.parsers.serialize`'s wire form) or `{"ok": false, "error": ..., ...}`. The parent
  has set the resource limits before exec.
* `python -m gateway.parsers.child --serve FD [PRELOAD]` (fork server): a long-lived process
  that has imported the parsing modules once (`preload`: all of them, or with `sheets` only
  what workbooks and delimited text need) and forks one child per document it is sent on the
  control socket FD. Each forked child starts its own session, applies the resource limits
  itself, then behaves exactly like a cold-started child on the pipes it was handed. The
  server tells the client the child's pid (so the client can kill the process group at its
  wall-clock limit) and, when it has reaped it, its wait status (so crashes by signal are
  named as before).

A job with `"kind": "annotate"` draws a label photo's marks instead of parsing it and
answers `{"ok": true, "jpeg": BASE64}` (see `parse`). A job with `"serve": N` makes the
forked child a warm reader instead (`gateway.parsers.warm`): it reads up to N documents
one after another on the same pipes, each as a length-prefixed frame (see
`_serve_documents`).

The protocol on the control socket (AF_UNIX, SOCK_SEQPACKET, one message per document): the
job as UTF-8 JSON with three file descriptors attached: the read end of the document pipe,
the write end of the result pipe, and one end of a stream socket on which the server answers
`pid` then `wait status` (each a signed 64-bit big-endian integer). The server exits when
every holder of the client end has closed it.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import resource
import struct
import sys
from typing import Any

_INT = struct.Struct("!q")


# what a fork server imports before it forks anything (`preload`): every reader, or only
# what workbooks and delimited text need
PRELOAD_ALL = "all"
PRELOAD_SHEETS = "sheets"


def preload(kind: str = PRELOAD_ALL) -> None:
    """Import, in the fork server before it forks anything, what its documents need.

    The readers are loaded once here instead of once per child (a cold start cost 0.3-0.7 s).
    `PRELOAD_ALL` adds the PDF engine and the label reader (numpy and OpenCV, ~0.25 s
    to import), which every image and many PDF pages need, so that a scan does not wait for
    them. `PRELOAD_SHEETS` leaves them out, for a caller whose documents are all workbooks or
    delimited text (`gateway check` of a packing list): a child that does meet an image or a
    PDF imports them itself. The OCR models are left to the children that read a scanned
    page either way: they add address space to every child, and RLIMIT_AS counts inherited
    mappings.
    """
    import PIL.Image  # noqa: F401 - every child's `harden_libraries` sets its pixel cap
    import xlrd  # noqa: F401

    import gateway.parsers  # and with it every reader of its PARSERS map
    import gateway.parsers.serialize

    if kind != PRELOAD_SHEETS:
        import pypdfium2  # noqa: F401

        import gateway.barcodes  # noqa: F401


def apply_limits(limits: dict[str, Any]) -> None:
    """Address space, CPU seconds, file size and no core dumps for this process."""
    memory = int(limits["memory_bytes"])
    cpu = int(limits["cpu_seconds"])
    fsize = int(limits["max_file_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# the job kind that draws a label photo's marks instead of parsing a document
ANNOTATE = "annotate"


def parse(job: dict[str, Any], data: bytes) -> dict[str, object]:
    """The outcome of one job, as the JSON-ready dict the parent expects.

    A job parses its document (`{"ok": true, "extraction": ...}`), unless its `kind` is
    `ANNOTATE`: then `data` is a label photo, decoded here and drawn on with the job's
    `marks` (`gateway.parsers.image.mark_photo`), and the result is the JPEG, base64 in
    `"jpeg"`. Either way a failure is the same kind of error dict.
    """
    from gateway.errors import InputError
    from gateway.parsers import Limits, extract
    from gateway.parsers.limits import library_message
    from gateway.parsers.serialize import to_wire

    try:
        limits = Limits(**job.get("limits", {}))
        if job.get("kind") == ANNOTATE:
            from gateway.parsers.image import mark_photo

            jpeg = mark_photo(data, job.get("marks", []), limits)
            return {"ok": True, "jpeg": base64.b64encode(jpeg).decode("ascii")}
        extraction = extract(
            data,
            filename=job.get("filename", ""),
            document_id=job.get("document_id", "doc-1"),
            limits=limits,
        )
        # the process ends once the result is written: no collector passes over the
        # wire form's containers (see `gateway.parsers.serialize.gc_paused`)
        gc.disable()
        return {"ok": True, "extraction": to_wire(extraction)}
    except MemoryError:
        return {"ok": False, "error": "MemoryError", "stage": "parse", "message": "out of memory"}
    except InputError as exc:
        if isinstance(exc.__cause__, MemoryError):
            return {"ok": False, "error": "MemoryError", "stage": "parse", "message": str(exc)}
        return {
            "ok": False,
            "error": type(exc).__name__,
            "message": str(exc),
            "limit": getattr(exc, "limit", None),
        }
    except Exception as exc:  # anything else is a document we cannot read
        return {"ok": False, "error": "CorruptDocument", "message": library_message(exc)}


_START_OOM = {"ok": False, "error": "MemoryError", "stage": "start", "message": "out of memory"}


def _encode(out: dict[str, object]) -> bytes:
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()


def main() -> int:
    """Cold start: parse one document and report the outcome as JSON."""
    if len(sys.argv) >= 3 and sys.argv[1] == "--serve":
        return serve(int(sys.argv[2]), sys.argv[3] if len(sys.argv) >= 4 else PRELOAD_ALL)
    job = json.loads(sys.argv[1])
    data = sys.stdin.buffer.read()
    try:
        # the imports are where a tight memory limit bites first
        import gateway.errors
        import gateway.parsers
        import gateway.parsers.limits
        import gateway.parsers.serialize  # noqa: F401
    except MemoryError:
        # the limit is too tight for the parser to start at all, before any document work
        sys.stdout.write(json.dumps(_START_OOM))
        return 0
    sys.stdout.buffer.write(_encode(parse(job, data)))
    sys.stdout.flush()
    return 0


# -- fork server ---------------------------------------------------------------------------------


def serve(control_fd: int, kind: str = PRELOAD_ALL) -> int:
    """Run the fork server on the control socket `control_fd` until every client has gone,
    with the modules `preload(kind)` imports."""
    import selectors
    import signal
    import socket

    preload(kind)
    # one document per child: OpenCV's thread pool would only add hand-offs on shared cores
    # (a child that imports OpenCV itself gets one thread from its environment)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(1)
    # A signal from the terminal is meant for the process that started the server; it stops
    # by itself when that process (and every fork of it) has closed the control socket.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the selector
    control = socket.socket(fileno=control_fd)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    replies: dict[int, socket.socket] = {}  # child pid -> its client's reply socket
    # the collector of a forked child never walks the preloaded objects, so it does not
    # write to (and copy) the pages they share with the server
    gc.freeze()
    while True:
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj is control:
                try:
                    message, fds, _flags, _addr = socket.recv_fds(control, 65536, 3)
                except InterruptedError:
                    continue
                if not message and not fds:
                    return 0  # every client end is closed: nobody can send work any more
                if len(fds) != 3:
                    for fd in fds:
                        os.close(fd)
                    continue
                doc_in, result_out, reply_fd = fds
                reply = socket.socket(fileno=reply_fd)
                pid = os.fork()
                if pid == 0:
                    _forked_child(
                        message,
                        doc_in,
                        result_out,
                        [control, reply, *replies.values()],
                        selector,
                        (wake_r, wake_w),
                    )
                os.close(doc_in)
                os.close(result_out)
                # if the client has gone, its child is still reaped below
                with contextlib.suppress(OSError):
                    reply.sendall(_INT.pack(pid))
                replies[pid] = reply
            else:
                while True:
                    try:
                        if not os.read(wake_r, 512):
                            break
                    except BlockingIOError:
                        break
        _reap(replies)


def _reap(replies: dict[int, Any]) -> None:
    """Collect finished children and tell each client how its child ended."""
    while replies:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        reply = replies.pop(pid, None)
        if reply is not None:
            with contextlib.suppress(OSError):
                reply.sendall(_INT.pack(status))
            reply.close()


def _forked_child(
    message: bytes,
    doc_in: int,
    result_out: int,
    sockets: list[Any],
    selector: Any,
    wake: tuple[int, int],
) -> None:
    """In the forked child: become a sandboxed one-document process; never returns."""
    import signal

    try:
        os.setsid()  # its own process group, which the client kills at the wall limit
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # the server's descriptors must not stay open here: the control socket would keep
        # the server alive after its clients left, a reply socket would hide its EOF
        selector.close()
        for sock in sockets:
            sock.close()
        for fd in wake:
            os.close(fd)
        os.dup2(doc_in, 0)
        os.dup2(result_out, 1)
        os.close(doc_in)
        os.close(result_out)
        job = json.loads(message)
        os.chdir(job["workdir"])
        import tempfile

        tempfile.tempdir = job["workdir"]
        start_oom = _encode(_START_OOM)  # built before the limit, written without allocating
        if job.get("serve"):
            _serve_documents(job, start_oom)
            os._exit(0)
        apply_limits(job["limits"])
        try:
            chunks = []
            while chunk := os.read(0, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
        except MemoryError:
            _write_all(start_oom)
            os._exit(0)
        _write_all(_encode(parse(job, data)))
    except MemoryError:
        os._exit(70)  # no room even to report: the parent names the memory limit
    except BaseException:
        os._exit(71)
    os._exit(0)


def _serve_documents(job: dict[str, Any], start_oom: bytes) -> None:
    """A warm reader: up to `job["serve"]` documents one after another, on the same pipes.

    Each document comes as a frame, `len(job) len(data)` (two signed 64-bit big-endian
    integers) then the job's JSON and the document's bytes, and is answered by
    `len(result)` and the result's JSON, as a one-document child prints it. The address
    space limit holds for the process's life; the CPU limit is moved before every document
    to what the process has used so far plus the document's own allowance, under a hard
    limit of every document's allowance together. After a result that is not `ok` the
    process exits: whatever state that document left is not carried to the next one.
    """
    documents = int(job["serve"])
    cpu = int(job["limits"]["cpu_seconds"])
    _keep_heap()
    ceiling = cpu * documents + 2
    apply_limits({**job["limits"], "cpu_seconds": ceiling - 2})
    for _ in range(documents):
        try:
            header = _read_exact(16)
            if header is None:
                return  # the client closed the pipe: no more documents
            job_size, data_size = struct.unpack("!qq", header)
            doc_job = json.loads(_read_exact(job_size) or b"{}")
            data = _read_exact(data_size) or b""
        except MemoryError:
            _write_frame(start_oom)
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = int(usage.ru_utime + usage.ru_stime) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (min(used + cpu, ceiling), ceiling))
        outcome = parse(doc_job, data)
        _write_frame(_encode(outcome))
        del data
        gc.enable()  # `parse` paused the collector for a process that ends; this one goes on
        if not outcome.get("ok"):
            return


def _keep_heap() -> None:
    """Keep freed memory mapped between documents (glibc), up to the address space limit.

    With glibc's defaults a process that never freed a large block returns the top of its
    heap to the system after every document, and the next document faults every page in
    again: about 7,400 page faults and 30 ms of CPU per 12 MP photo, most of what a warm
    reader saves. Blocks up to 32 MiB now come from the heap and stay there.
    """
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        libc.mallopt(-1, 256 * 1024 * 1024)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 32 * 1024 * 1024)  # M_MMAP_THRESHOLD


def _read_exact(size: int) -> bytes | None:
    """`size` bytes from stdin, or None at EOF before the first byte."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = os.readv(0, [view[got:]])
        if not n:
            if got == 0:
                return None
            msg = f"the document pipe closed after {got} of {size} bytes"
            raise EOFError(msg)
        got += n
    return bytes(buffer)


def _write_frame(data: bytes) -> None:
    _write_all(_INT.pack(len(data)))
    _write_all(data)


def _write_all(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]


if __name__ == "__main__":
    sys.exit(main())
