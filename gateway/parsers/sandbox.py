"""Parse an untrusted document in a disposable child process with hard OS limits.

Native parsers (PDFium, image codecs) abort the whole process on some hostile files instead
of raising, and an interpreter-level timeout cannot stop code stuck inside C. So every upload
is parsed in a fresh interpreter (`python -m gateway.parsers.child`) with:

* `RLIMIT_AS` (address space), `RLIMIT_CPU`, `RLIMIT_FSIZE`, `RLIMIT_CORE` = 0;
* its own session, killed as a process group when the wall-clock limit passes;
* a cap on the bytes of JSON it may print;
* no secrets: the environment passed is a short allow-list.

Start-up cost is one interpreter plus the parsing imports (about 0.3-0.5 s here); the
benchmark prints it. A child that crashes, overruns or is killed yields
`ResourceLimitExceeded` naming the limit; a document it cannot read yields the same
`InputError` subclass the in-process `extract` raises.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from gateway.domain import Extraction
from gateway.errors import (
    CorruptDocument,
    DocumentTooLarge,
    InputError,
    ResourceLimitExceeded,
    UnsupportedDocument,
)
from gateway.parsers.limits import DEFAULT_LIMITS, Limits, check_size
from gateway.parsers.serialize import extraction_from_dict

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
        OPENCV_IO_MAX_IMAGE_PIXELS=str(limits.max_image_pixels),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _set_limits(limits: Limits) -> None:
    """Runs in the child between fork and exec."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 2))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_bytes, limits.max_file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def extract_sandboxed(
    data: bytes,
    *,
    filename: str = "",
    document_id: str = "doc-1",
    limits: Limits | None = None,
    child_command: Sequence[str] | None = None,
) -> Extraction:
    """`gateway.parsers.extract` in a child process with memory, CPU, time and output limits.

    Args:
        child_command: the child to run instead of `python -m gateway.parsers.child` (it
            receives the job as its last argument and the document on stdin). For checking
            how the sandbox treats children that misbehave; production code leaves it out.

    Raises:
        ResourceLimitExceeded: the child ran out of memory, CPU or wall-clock time, printed
            too much, or died by a signal (native libraries abort on some hostile files).
        UnsupportedDocument, DocumentTooLarge, CorruptDocument: as `extract`.
    """
    limits = limits or DEFAULT_LIMITS
    check_size(data, limits)
    job = json.dumps(
        {"filename": filename, "document_id": document_id, "limits": dataclasses.asdict(limits)}
    )
    with tempfile.TemporaryDirectory(prefix="gateway-parse-") as workdir:
        command = list(child_command or (sys.executable, "-m", "gateway.parsers.child"))
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
        output, timed_out, too_big = _communicate(proc, data, limits)
    return _outcome(proc.returncode, output, timed_out, too_big, limits)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _communicate(
    proc: subprocess.Popen[bytes], data: bytes, limits: Limits
) -> tuple[bytes, bool, bool]:
    """Feed stdin, read at most `max_output_bytes` of stdout, kill at the deadline."""
    assert proc.stdin is not None
    assert proc.stdout is not None
    deadline = time.monotonic() + limits.wall_seconds
    chunks: list[bytes] = []
    size = 0
    view = memoryview(data)
    sel = selectors.DefaultSelector()
    os.set_blocking(proc.stdin.fileno(), False)
    sel.register(proc.stdin, selectors.EVENT_WRITE)
    sel.register(proc.stdout, selectors.EVENT_READ)
    written = 0
    try:
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill(proc)
                return b"".join(chunks), True, False
            for key, _ in sel.select(timeout=min(remaining, 0.5)):
                if key.fileobj is proc.stdin:
                    try:
                        written += os.write(proc.stdin.fileno(), view[written : written + 65536])
                    except BrokenPipeError:
                        written = len(data)
                    if written >= len(data):
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                else:
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        sel.unregister(proc.stdout)
                        continue
                    size += len(chunk)
                    if size > limits.max_output_bytes:
                        _kill(proc)
                        return b"", False, True
                    chunks.append(chunk)
        remaining = max(deadline - time.monotonic(), 0.01)
        try:
            proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            _kill(proc)
            return b"".join(chunks), True, False
    finally:
        sel.close()
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
        proc.stdout.close()
    return b"".join(chunks), False, False


def _outcome(
    returncode: int | None, output: bytes, timed_out: bool, too_big: bool, limits: Limits
) -> Extraction:
    if timed_out:
        msg = f"Parsing exceeded the wall-clock limit of {limits.wall_seconds:g} s and was killed."
        raise ResourceLimitExceeded(msg)
    if too_big:
        msg = f"Parser output exceeded the limit of {limits.max_output_bytes} bytes."
        raise ResourceLimitExceeded(msg)
    if returncode is not None and returncode < 0:
        sig = (
            signal.Signals(-returncode).name
            if -returncode in signal.valid_signals()
            else str(-returncode)
        )
        if -returncode == signal.SIGXCPU:
            msg = f"Parsing exceeded the CPU time limit of {limits.cpu_seconds} s ({sig})."
        else:
            msg = (
                f"The parser process died by signal {sig} (memory limit "
                f"{limits.memory_bytes // (1024 * 1024)} MiB, CPU limit {limits.cpu_seconds} s)."
            )
        raise ResourceLimitExceeded(msg)
    try:
        result: dict[str, Any] = json.loads(output)
    except ValueError as exc:
        msg = (
            f"The parser process exited with status {returncode} without a result "
            f"(memory limit of {limits.memory_bytes // (1024 * 1024)} MiB)."
        )
        raise ResourceLimitExceeded(msg) from exc
    if result.get("ok"):
        return extraction_from_dict(result["extraction"])
    error = str(result.get("error", "CorruptDocument"))
    message = str(result.get("message", ""))
    if error == "MemoryError":
        mib = limits.memory_bytes // (1024 * 1024)
        if result.get("stage") == "start":
            msg = f"The parser could not start within the memory limit of {mib} MiB."
        else:
            msg = f"Parsing the document exceeded the memory limit of {mib} MiB."
        raise ResourceLimitExceeded(msg)
    raise _ERRORS.get(error, CorruptDocument)(message)
