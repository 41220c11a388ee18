"""Parse an untrusted document in a disposable child process with hard OS limits.

Native parsers (PDFium, image codecs) abort the whole process on some hostile files instead
of raising, and an interpreter-level timeout cannot stop code stuck inside C. So every upload
is parsed in a process of its own with:

* `RLIMIT_AS` (address space), `RLIMIT_CPU`, `RLIMIT_FSIZE`, `RLIMIT_CORE` = 0;
* its own session, killed as a process group when the wall-clock limit passes;
* a cap on the bytes of JSON it may print;
* no secrets: the environment is a short allow-list.

Two ways to get that process:

* **fork server** (`ForkServer`, for long-lived processes: rq workers, web processes running
  jobs): one child interpreter per process that has imported the parsing modules once and
  forks a fresh child per document (a few milliseconds instead of a cold start). The forked
  child applies the limits itself before reading the document. If the fork server dies, the
  document is parsed by a cold start and the next call starts a new server.
* **cold start** (`python -m gateway.parsers.child`, the default for one-off callers): a fresh
  interpreter per document, about 0.3-0.5 s of start-up; nothing lives between calls.

A third, for label scans, is built on the fork server: a warm reader
(`gateway.parsers.warm`), one forked child that reads many photos one after another under
the same limits.

Either way, a child that crashes, overruns or is killed yields `ResourceLimitExceeded`
naming the limit; a document it cannot read yields the same `InputError` subclass the
in-process `extract` raises.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from gateway.codec import CodecError
from gateway.domain import Extraction
from gateway.errors import (
    CorruptDocument,
    DocumentTooLarge,
    InputError,
    ResourceLimitExceeded,
    UnsupportedDocument,
)
from gateway.parsers.child import PRELOAD_ALL, PRELOAD_SHEETS, apply_limits
from gateway.parsers.limits import DEFAULT_LIMITS, Limits, check_size
from gateway.parsers.serialize import MAX_WIRE_ITEMS, from_wire, gc_paused
from gateway.parsers.sniff import CSV, SPREADSHEETS, TSV

_ERRORS: dict[str, type[InputError]] = {
    "UnsupportedDocument": UnsupportedDocument,
    "DocumentTooLarge": DocumentTooLarge,
    "CorruptDocument": CorruptDocument,
    "ResourceLimitExceeded": ResourceLimitExceeded,
    "InputError": InputError,
}
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")


def _child_env(limits: Limits) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
    env.update(
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        OPENCV_FOR_THREADS_NUM="1",  # one document per process: no thread pool hand-offs
        OPENCV_IO_MAX_IMAGE_PIXELS=str(limits.max_image_pixels),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _set_limits(limits: Limits) -> None:
    """Runs in the cold-started child between fork and exec: nothing may be imported here
    (another thread of the parent may have held the import lock at the fork)."""
    apply_limits(dataclasses.asdict(limits))


_PID = 8  # the server's answers: signed 64-bit big-endian integers


class ForkServer:
    """A long-lived child interpreter that forks one sandboxed child per document.

    Start it in the process that will parse (or in a parent that forks the processes that
    will: an rq worker before its work horses); the client end of its control socket is
    inherited by forks. It stops by itself when every process holding that end has exited.

    `preload` is what it imports before forking (`gateway.parsers.child.preload`): every
    reader (`PRELOAD_ALL`, for the service: a scan must not wait for the label reader's
    import), or what workbooks and delimited text need (`PRELOAD_SHEETS`, see
    `preload_for`). Either server reads every kind of document.
    """

    def __init__(self, preload: str = PRELOAD_ALL) -> None:
        client, server = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-m", "gateway.parsers.child", "--serve", str(server.fileno())]
        try:
            self.proc = subprocess.Popen(
                [*command, preload],
                pass_fds=[server.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=tempfile.gettempdir(),
                env=_child_env(DEFAULT_LIMITS),
                start_new_session=True,  # a terminal's Ctrl-C is for its parent, not for it
            )
        except BaseException:
            client.close()
            raise
        finally:
            server.close()
        self.control = client
        self.owner = os.getpid()
        self.dead = False
        self.preload = preload
        # what it was started with: jobs asking for another image-pixel cap go to a cold
        # start, because OpenCV reads that cap once per process, from the environment
        self.max_image_pixels = DEFAULT_LIMITS.max_image_pixels

    @property
    def pid(self) -> int:
        """The server process's id."""
        return self.proc.pid

    def usable(self) -> bool:
        """False once it is known to be dead (only its starting process can ask the OS)."""
        if not self.dead and self.owner == os.getpid() and self.proc.poll() is not None:
            self.dead = True
        return not self.dead

    def close(self) -> None:
        """Stop it: closing this end lets it exit once forks holding the end have exited."""
        self.dead = True
        self.control.close()
        if self.owner == os.getpid():
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def start_child(self, job: bytes, doc_in: int, result_out: int) -> tuple[int, socket.socket]:
        """Hand a job to the server; (child pid, the socket its wait status will come on).

        Raises OSError when the server is gone (the caller falls back to a cold start).
        """
        mine, theirs = socket.socketpair()
        try:
            socket.send_fds(self.control, [job], [doc_in, result_out, theirs.fileno()])
        except OSError:
            mine.close()
            self.dead = True
            raise
        finally:
            theirs.close()
        mine.settimeout(10.0)  # a fork takes milliseconds; a silent server is a dead one
        try:
            answer = recv_exact(mine, _PID)
        except OSError:
            mine.close()
            self.dead = True
            raise
        if answer is None:
            mine.close()
            self.dead = True
            msg = "the fork server closed the connection without a pid"
            raise ConnectionError(msg)
        return int.from_bytes(answer, "big", signed=True), mine


def recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """`size` bytes, or None at EOF (the server died). Timeouts raise OSError."""
    buf = b""
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def preload_for(media_types: Iterable[str]) -> str:
    """What a fork server for documents of these (sniffed) types should preload: only the
    sheet readers when every one is a workbook or delimited text, else every reader."""
    sheets = SPREADSHEETS | {CSV, TSV}
    return PRELOAD_SHEETS if all(t in sheets for t in media_types) else PRELOAD_ALL


_shared: ForkServer | None = None
_shared_preload = PRELOAD_ALL  # what the shared server is started (and restarted) with
_shared_lock = threading.Lock()


def _after_fork_in_child() -> None:
    global _shared_lock
    _shared_lock = threading.Lock()  # a fork may happen while another thread holds it


os.register_at_fork(after_in_child=_after_fork_in_child)
# wait for the server at exit instead of leaving it to notice the closed socket on its own
atexit.register(lambda: stop_shared_fork_server())


def shared_fork_server(preload: str | None = None) -> ForkServer | None:
    """This process's fork server, started (or restarted after its death) on demand.

    None when it cannot be started; callers then get cold starts. Forks of the process that
    started it use the same server. `preload` (see `ForkServer`) is kept for the servers
    started from then on, restarts included; a running server is returned as it is (it reads
    every kind of document). Without it, the last one given holds, at first `PRELOAD_ALL`.
    """
    global _shared, _shared_preload
    with _shared_lock:
        if preload is not None:
            _shared_preload = preload
        if _shared is not None and _shared.usable():
            return _shared
        if _shared is not None and _shared.owner == os.getpid():
            with contextlib.suppress(OSError):
                _shared.close()
        try:
            _shared = ForkServer(_shared_preload)
        except OSError:
            _shared = None
        return _shared


def stop_shared_fork_server() -> None:
    """Stop this process's fork server, if it started one; the next one preloads every
    reader unless asked otherwise."""
    global _shared, _shared_preload
    with _shared_lock:
        if _shared is not None and _shared.owner == os.getpid():
            _shared.close()
        _shared = None
        _shared_preload = PRELOAD_ALL


def extract_sandboxed(
    data: bytes,
    *,
    filename: str = "",
    document_id: str = "doc-1",
    limits: Limits | None = None,
    child_command: Sequence[str] | None = None,
    server: ForkServer | None = None,
) -> Extraction:
    """`gateway.parsers.extract` in a child process with memory, CPU, time and output limits.

    Args:
        server: a fork server to fork the child from (see `shared_fork_server`); without
            one, or when it has died, the child is a cold-started interpreter.
        child_command: the child to cold-start instead of `python -m gateway.parsers.child`
            (it receives the job as its last argument and the document on stdin). For
            checking how the sandbox treats children that misbehave; production code leaves
            it out.

    Raises:
        ResourceLimitExceeded: the child ran out of memory, CPU or wall-clock time, printed
            too much, or died by a signal (native libraries abort on some hostile files).
        UnsupportedDocument, DocumentTooLarge, CorruptDocument: as `extract`.
    """
    limits = limits or DEFAULT_LIMITS
    job = {"filename": filename, "document_id": document_id}
    return result_extraction(
        run_sandboxed(data, job, limits, child_command=child_command, server=server), limits
    )


def run_sandboxed(
    data: bytes,
    job: dict[str, Any],
    limits: Limits,
    *,
    child_command: Sequence[str] | None = None,
    server: ForkServer | None = None,
) -> dict[str, Any]:
    """One job of the sandbox child (see `gateway.parsers.child.parse`) on `data`, under
    `limits`: the child's result (`"ok": true`), or the error it names, raised.

    Raises what `extract_sandboxed` raises.
    """
    check_size(data, limits)
    job = {**job, "limits": dataclasses.asdict(limits)}
    with tempfile.TemporaryDirectory(prefix="gateway-parse-") as workdir:
        forked = None
        if (
            server is not None
            and child_command is None
            and server.max_image_pixels == limits.max_image_pixels
            and server.usable()
        ):
            forked = _run_forked(server, data, {**job, "workdir": workdir}, limits)
        if forked is None:
            forked = _run_cold(data, json.dumps(job), limits, workdir, child_command)
    returncode, output, timed_out, too_big = forked
    return child_result(returncode, output, timed_out, too_big, limits, failure_advice(data))


_Run = tuple[int | None, bytes, bool, bool]  # returncode, output, timed out, output too big


def _run_cold(
    data: bytes, job: str, limits: Limits, workdir: str, child_command: Sequence[str] | None
) -> _Run:
    command = list(child_command or (sys.executable, "-m", "gateway.parsers.child"))
    deadline = time.monotonic() + limits.wall_seconds
    proc = subprocess.Popen(
        [*command, job],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
        env=_child_env(limits),
        start_new_session=True,  # its own process group, killed as a whole
        preexec_fn=lambda: _set_limits(limits),
    )
    assert proc.stdin is not None
    assert proc.stdout is not None

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    stdin, stdout = proc.stdin, proc.stdout
    try:
        output, timed_out, too_big = _communicate(
            stdin.fileno(), stdout.fileno(), data, limits, deadline, kill, stdin.close
        )
    finally:
        stdin.close()
        stdout.close()
    if not (timed_out or too_big):
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            kill()
            timed_out = True
    return proc.returncode, output, timed_out, too_big


def _run_forked(
    server: ForkServer, data: bytes, job: dict[str, Any], limits: Limits
) -> _Run | None:
    """The child forked by `server`; None when the server died before the child's end was
    known (the caller then parses the document again, cold)."""
    deadline = time.monotonic() + limits.wall_seconds
    doc_in, doc_w = os.pipe()
    result_r, result_out = os.pipe()
    try:
        try:
            pid, status_sock = server.start_child(json.dumps(job).encode(), doc_in, result_out)
        finally:
            os.close(doc_in)
            os.close(result_out)
    except OSError:
        os.close(doc_w)
        os.close(result_r)
        return None

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)

    input_open = [True]

    def close_input() -> None:
        if input_open[0]:
            input_open[0] = False
            os.close(doc_w)

    with status_sock:
        try:
            output, timed_out, too_big = _communicate(
                doc_w, result_r, data, limits, deadline, kill, close_input
            )
        finally:
            close_input()
            os.close(result_r)
        # the child's wait status, which the server sends once it has reaped the child
        status: bytes | None = None
        while status is None:
            wait = deadline - time.monotonic() if not (timed_out or too_big) else 5.0
            status_sock.settimeout(max(wait, 0.01))
            try:
                status = recv_exact(status_sock, _PID)
            except TimeoutError:
                if timed_out or too_big:
                    break  # killed already; its exact end does not change the outcome
                kill()
                timed_out = True
                continue
            except OSError:
                status = None
            if status is None:  # the server died: we cannot know how the child ended
                kill()
                server.dead = True
                if timed_out or too_big:
                    break
                return None
    if status is None:
        return None if not (timed_out or too_big) else (None, output, timed_out, too_big)
    code = os.waitstatus_to_exitcode(int.from_bytes(status, "big", signed=True))
    return code, output, timed_out, too_big


def _communicate(
    stdin_fd: int,
    stdout_fd: int,
    data: bytes,
    limits: Limits,
    deadline: float,
    kill: Callable[[], None],
    close_input: Callable[[], None],
) -> tuple[bytes, bool, bool]:
    """Feed the document, read at most `max_output_bytes` of result, kill at the deadline.

    `close_input` closes `stdin_fd` once the document is written (the child sees EOF).
    Returns (output, timed out, output too big); reading stops at the result's EOF.
    """
    chunks: list[bytes] = []
    size = 0
    view = memoryview(data)
    sel = selectors.DefaultSelector()
    os.set_blocking(stdin_fd, False)
    sel.register(stdin_fd, selectors.EVENT_WRITE)
    sel.register(stdout_fd, selectors.EVENT_READ)
    written = 0
    try:
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kill()
                return b"".join(chunks), True, False
            for key, _ in sel.select(timeout=min(remaining, 0.5)):
                if key.fd == stdin_fd:
                    try:
                        written += os.write(stdin_fd, view[written : written + 65536])
                    except BrokenPipeError:
                        written = len(data)
                    if written >= len(data):
                        sel.unregister(stdin_fd)
                        close_input()
                else:
                    chunk = os.read(stdout_fd, 65536)
                    if not chunk:
                        sel.unregister(stdout_fd)
                        continue
                    size += len(chunk)
                    if size > limits.max_output_bytes:
                        kill()
                        return b"", False, True
                    chunks.append(chunk)
    finally:
        sel.close()
    return b"".join(chunks), False, False


def failure_advice(data: bytes) -> str:
    """What a user can do about a document whose reader died, by what its bytes are."""
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return (
            " A workbook does this when a sheet has cells far outside its table (a stray value "
            "at row 1,000,000 or column XFD) or one long text repeated in very many cells: "
            "delete the empty rows and columns around the table, or save the sheet as CSV, "
            "and upload it again."
        )
    if data[:5] == b"%PDF-":
        return (
            " A PDF does this when a page or image inflates to far more than it shows: print "
            "it to a new PDF or export the packing list again, and upload that."
        )
    return " Save the document again from the program that made it and upload that."


def result_extraction(result: dict[str, Any], limits: Limits | None = None) -> Extraction:
    """The extraction of a parsing child's `"ok"` result.

    The child is not trusted (a hostile document may control it): its answer is checked as
    it is read (`gateway.parsers.serialize.from_wire`), at most `max_lines(limits)` lines and
    as many codes.

    Raises:
        CorruptDocument: the answer is not the wire form of an extraction.
    """
    try:
        with gc_paused():
            return from_wire(result.get("extraction"), max_lines(limits or DEFAULT_LIMITS))
    except CodecError as exc:
        msg = f"The parser process gave a malformed answer ({exc}); the document was not read."
        raise CorruptDocument(msg) from exc


def max_lines(limits: Limits) -> int:
    """The most lines (and codes) the parent accepts in one child's answer: what the output
    cap could carry in the earlier positional form, a line 64 bytes at the least."""
    return min(MAX_WIRE_ITEMS, max(limits.max_output_bytes // 64, 1))


def child_result(
    returncode: int | None,
    output: bytes,
    timed_out: bool,
    too_big: bool,
    limits: Limits,
    advice: str = "",
) -> dict[str, Any]:
    """A child's `"ok"` result from how it ended and what it printed.

    Raises:
        ResourceLimitExceeded: it overran a limit, died by a signal or printed no result.
        InputError: the subclass the child named (the document cannot be read).
    """
    if timed_out:
        msg = f"Parsing exceeded the wall-clock limit of {limits.wall_seconds:g} s and was killed."
        raise ResourceLimitExceeded(msg, limit="wall_seconds")
    if too_big:
        msg = f"Parser output exceeded the limit of {limits.max_output_bytes} bytes."
        raise ResourceLimitExceeded(msg, limit="max_output_bytes")
    if returncode is not None and returncode < 0:
        sig = (
            signal.Signals(-returncode).name
            if -returncode in signal.valid_signals()
            else str(-returncode)
        )
        limit = "memory_bytes"
        if -returncode == signal.SIGXCPU:
            msg = f"Parsing exceeded the CPU time limit of {limits.cpu_seconds} s ({sig})."
            limit = "cpu_seconds"
        else:
            msg = (
                f"The document could not be read within the reader's limits: the parser "
                f"process died by signal {sig} (memory limit "
                f"{limits.memory_bytes // (1024 * 1024)} MiB, CPU limit {limits.cpu_seconds} s)."
                f"{advice}"
            )
        raise ResourceLimitExceeded(msg, limit=limit)
    try:
        with gc_paused():
            result: dict[str, Any] = json.loads(output)
    except ValueError as exc:
        msg = (
            f"The parser process exited with status {returncode} without a result "
            f"(memory limit of {limits.memory_bytes // (1024 * 1024)} MiB)."
        )
        raise ResourceLimitExceeded(msg, limit="memory_bytes") from exc
    except RecursionError as exc:  # JSON nested deeper than the parser's stack
        msg = (
            "The parser process gave a malformed answer (nested too deep); "
            "the document was not read."
        )
        raise CorruptDocument(msg) from exc
    if not isinstance(result, dict):
        msg = (
            "The parser process gave a malformed answer (not an object); the document was not read."
        )
        raise CorruptDocument(msg)
    if result.get("ok"):
        return result
    error = str(result.get("error", "CorruptDocument"))
    message = str(result.get("message", ""))
    if error == "MemoryError":
        mib = limits.memory_bytes // (1024 * 1024)
        if result.get("stage") == "start":
            msg = f"The parser could not start within the memory limit of {mib} MiB."
        else:
            msg = f"Parsing the document exceeded the memory limit of {mib} MiB."
        raise ResourceLimitExceeded(msg, limit="memory_bytes")
    found = result.get("limit")
    named = found if isinstance(found, str) else None
    raise _ERRORS.get(error, CorruptDocument)(message, limit=named)
