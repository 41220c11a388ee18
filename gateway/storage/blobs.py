"""Where document bytes live: one `BlobStore` seam, files by default, the database for scale-out.

Keys are random (`secrets.token_hex`) under a tenant prefix; the client's filename never
reaches a path. `put` returns only once the bytes are durable (file and directory fsync'd),
because the upload's `202` promises exactly that.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import NotFound
from gateway.storage.models import BlobRow

_KEY = re.compile(r"[0-9a-f]{1,32}/[0-9a-f]{32}\Z")


class BlobStore(Protocol):
    """Stores immutable byte strings under generated keys."""

    def put(self, tenant_id: str, data: bytes) -> str:
        """Store `data` durably and return its new key."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes stored under `key`; raises NotFound when absent."""
        ...

    def delete(self, key: str) -> None:
        """Remove `key`; absent keys are ignored."""
        ...


def new_key(tenant_id: str) -> str:
    """A fresh random key under the tenant's prefix."""
    prefix = re.sub(r"[^0-9a-f]", "", tenant_id.lower())[:32] or "0"
    return f"{prefix}/{secrets.token_hex(16)}"


class FileBlobStore:
    """Blobs as files under `root/<tenant>/<random>`; writes are atomic and fsync'd."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):  # keys are ours; anything else is a bug or an attack
            msg = f"Malformed blob key {key!r}: expected '<hex tenant>/<32 hex>'."
            raise NotFound(msg)
        return self.root / key

    def put(self, tenant_id: str, data: bytes) -> str:
        """Write to a temporary file, fsync it, rename into place, fsync the directory."""
        key = new_key(tenant_id)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return key

    def get(self, key: str) -> bytes:
        """Read the whole blob."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            msg = f"No stored document under key {key!r}."
            raise NotFound(msg) from None

    def delete(self, key: str) -> None:
        """Unlink the file if it is there."""
        self._path(key).unlink(missing_ok=True)


class DatabaseBlobStore:
    """Blobs as rows of the `blobs` table: shared by every web and worker node."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def put(self, tenant_id: str, data: bytes) -> str:
        """Insert and commit the row (the database's commit is the durability point)."""
        key = new_key(tenant_id)
        with self.sessions.begin() as session:
            session.add(BlobRow(key=key, data=data))
        return key

    def get(self, key: str) -> bytes:
        """Read the row's bytes."""
        with self.sessions() as session:
            row = session.get(BlobRow, key)
            if row is None:
                msg = f"No stored document under key {key!r}."
                raise NotFound(msg)
            return bytes(row.data)

    def delete(self, key: str) -> None:
        """Delete the row if present."""
        with self.sessions.begin() as session:
            row = session.get(BlobRow, key)
            if row is not None:
                session.delete(row)
