"""Entry point of the parser sandbox child: `python -m gateway.parsers.child`.

Reads the document from stdin and a JSON job description from argv[1]; prints one JSON
object on stdout: `{"ok": true, "extraction": {...}}` or `{"ok": false, "error": ..., ...}`.
The parent (`gateway.parsers.sandbox`) has already set the resource limits.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    """Parse one document and report the outcome as JSON."""
    job = json.loads(sys.argv[1])
    data = sys.stdin.buffer.read()
    out: dict[str, object]
    try:
        from gateway.errors import InputError
        from gateway.parsers import Limits, extract
        from gateway.parsers.limits import library_message
        from gateway.parsers.serialize import extraction_to_dict
    except MemoryError:
        # the limit is too tight for the parser to start at all, before any document work
        out = {"ok": False, "error": "MemoryError", "stage": "start", "message": "out of memory"}
        sys.stdout.write(json.dumps(out))
        return 0
    try:
        limits = Limits(**job.get("limits", {}))
        extraction = extract(
            data,
            filename=job.get("filename", ""),
            document_id=job.get("document_id", "doc-1"),
            limits=limits,
        )
        out = {"ok": True, "extraction": extraction_to_dict(extraction)}
    except MemoryError:
        out = {"ok": False, "error": "MemoryError", "stage": "parse", "message": "out of memory"}
    except InputError as exc:
        if isinstance(exc.__cause__, MemoryError):
            out = {"ok": False, "error": "MemoryError", "stage": "parse", "message": str(exc)}
        else:
            out = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    except Exception as exc:  # anything else is a document we cannot read
        out = {"ok": False, "error": "CorruptDocument", "message": library_message(exc)}
    sys.stdout.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
