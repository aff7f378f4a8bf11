"""Content-addressed storage for PDFs and attachments.

A blob is named by the SHA-256 of its bytes. The bytes are durable *before* the row that
points at them: the directory store writes a temporary file, fsyncs it, renames it into place
and fsyncs the directory, and only then adds the ``blob`` row to the act's transaction; the
database store puts the bytes in that row, in the same transaction. A crash therefore leaves at
worst an orphan file (harmless, found by :meth:`BlobStore.check`), never a row without content.
Reads check the hash, so a corrupted file is reported, not served.

Sealed content (confidential and secret documents, see :mod:`edoc.routing.envelope`): the row
named by the plaintext's hash keeps no bytes and points (``envelope_sha256``) at the blob of the
CMS EnvelopedData that encrypts them. :meth:`BlobStore.get` refuses such a row
(:class:`~edoc.errors.ContentSealed`): only the office, with a reader's key, opens it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from edoc.errors import BlobMissing, ContentSealed, EdocError
from edoc.storage.tables import BlobRow


class BlobCorrupted(EdocError):
    """The stored bytes no longer hash to their name."""

    exit_code = 1
    en = "stored content {sha256} is corrupted (hash mismatch)"
    th = "เนื้อหาที่จัดเก็บ {sha256} เสียหาย (ค่าแฮชไม่ตรง)"

    def __init__(self, sha256: str) -> None:
        super().__init__(sha256=sha256)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class BlobProblem:
    """One finding of :meth:`BlobStore.check`."""

    sha256: str
    problem: str
    """``missing``, ``corrupted`` or ``orphan``."""


class BlobStore(ABC):
    """Where blob bytes live; the ``blob`` rows are always in the database."""

    def put(self, session: Session, data: bytes) -> str:
        """Store ``data`` (idempotent) and add its row to ``session``; return its SHA-256."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError("blob data must be bytes")
        data = bytes(data)
        digest = sha256_hex(data)
        row = session.get(BlobRow, digest)
        if row is not None and row.erased_at is None and (row.envelope_sha256 is not None or self._has(session, row)):
            return digest  # stored already (sealed content stays sealed: never written in the clear)
        self._write(digest, data)  # durable before the row exists
        if row is None:
            # Another process may be storing the same bytes right now (two clerks importing the
            # same PDF; an act re-run after a crash while the killed one's commit completes on
            # the server). Same hash, same bytes: whoever commits first wins, the other's insert
            # does nothing (PostgreSQL waits for the first to commit or roll back).
            row = BlobRow(sha256=digest, size=len(data), created_at=datetime.now(UTC))
            self._attach(row, data)
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            session.execute(
                insert(BlobRow)
                .values(sha256=row.sha256, size=row.size, data=row.data, created_at=row.created_at)
                .on_conflict_do_nothing(index_elements=["sha256"])
            )
            return digest
        row.erased_at = None
        self._attach(row, data)
        session.add(row)
        session.flush()
        return digest

    def write_ahead(self, data: bytes) -> str:
        """Make ``data``'s file durable now, before the transaction whose :meth:`put` adds its
        row (an act that signs outside its transaction writes the result there too, not under
        the database's write lock). Nothing for blobs kept in the database. Its SHA-256."""
        data = bytes(data)
        digest = sha256_hex(data)
        self._write(digest, data)
        return digest

    def put_sealed(self, session: Session, digest: str, size: int, envelope: bytes) -> str:
        """Store ``envelope`` (a CMS EnvelopedData of content whose SHA-256 is ``digest`` and
        length ``size``) and make the row ``digest`` point at it; the previous envelope of the
        same content, if any, is retired: its row marked erased in this transaction, its file
        (directory store) removed once the transaction commits, so a rollback loses nothing and
        no superseded envelope (still wrapping the key for someone since removed) stays behind.
        Return the envelope's hash."""
        sealed = self.put(session, envelope)
        row = session.get(BlobRow, digest)
        if row is not None and row.envelope_sha256 is None and row.erased_at is None:
            # content stored in the clear (before migration 0012_sealed) sealed now: its file
            # goes once the envelope's row is committed
            event.listen(session, "after_commit", lambda _s, clear=digest: self._remove(clear), once=True)
        if row is None:
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            session.execute(
                insert(BlobRow)
                .values(sha256=digest, size=size, data=None, created_at=datetime.now(UTC), envelope_sha256=sealed)
                .on_conflict_do_nothing(index_elements=["sha256"])
            )
            row = session.get(BlobRow, digest)
            assert row is not None
            if row.envelope_sha256 == sealed:
                return sealed
        old = row.envelope_sha256
        row.envelope_sha256 = sealed
        row.erased_at = None
        if row.data is not None:
            row.data = None
        session.add(row)
        session.flush()
        if old is not None and old != sealed:
            retired = session.get(BlobRow, old)
            if retired is not None:
                retired.erased_at = datetime.now(UTC)
                retired.data = None
                session.add(retired)
                session.flush()
                event.listen(session, "after_commit", lambda _s, gone=old: self._remove(gone), once=True)
        return sealed

    def envelope_of(self, session: Session, digest: str, *, for_update: bool = False) -> str | None:
        """The hash of the envelope that holds ``digest``'s content, or None when it is not sealed.
        ``for_update`` locks the row until the transaction ends (PostgreSQL): two acts adding
        readers to one shared envelope (a secret circular received everywhere at once) then
        take turns instead of one losing the other's reader."""
        if for_update:
            row = session.get(BlobRow, digest, with_for_update=True, populate_existing=True)
        else:
            row = session.get(BlobRow, digest)
        return None if row is None else row.envelope_sha256

    def get(self, session: Session, digest: str) -> bytes:
        """The bytes of ``digest``; :class:`BlobMissing` or :class:`BlobCorrupted` otherwise, and
        :class:`~edoc.errors.ContentSealed` for sealed content (open it through the office)."""
        row = session.get(BlobRow, digest)
        if row is None or row.erased_at is not None:
            raise BlobMissing(digest)
        if row.envelope_sha256 is not None:
            raise ContentSealed(digest, "sealed", "it is stored only encrypted (CMS EnvelopedData)")
        data = self._read(row)
        if data is None:
            raise BlobMissing(digest)
        if sha256_hex(data) != digest:
            raise BlobCorrupted(digest)
        return data

    def erase(self, session: Session, digest: str) -> None:
        """Erase the content (approved destruction); the row and its hash stay as evidence."""
        row = session.get(BlobRow, digest)
        if row is None:
            raise BlobMissing(digest)
        row.erased_at = datetime.now(UTC)
        row.data = None
        envelope = row.envelope_sha256
        session.add(row)
        session.flush()
        self._remove(digest)
        if envelope is not None and envelope != digest:
            self.erase(session, envelope)

    def check(self, session: Session) -> list[BlobProblem]:
        """Every row has its bytes and they hash right; files without rows are orphans."""
        problems: list[BlobProblem] = []
        seen: set[str] = set()
        for row in session.exec(select(BlobRow)):
            seen.add(row.sha256)
            if row.erased_at is not None or row.envelope_sha256 is not None:
                continue  # sealed content: its envelope row is checked
            data = self._read(row)
            if data is None:
                problems.append(BlobProblem(row.sha256, "missing"))
            elif sha256_hex(data) != row.sha256:
                problems.append(BlobProblem(row.sha256, "corrupted"))
        problems.extend(BlobProblem(d, "orphan") for d in self._names() - seen)
        return problems

    # -- backend hooks --
    @abstractmethod
    def _write(self, digest: str, data: bytes) -> None: ...

    @abstractmethod
    def _attach(self, row: BlobRow, data: bytes) -> None: ...

    @abstractmethod
    def _read(self, row: BlobRow) -> bytes | None: ...

    @abstractmethod
    def _has(self, session: Session, row: BlobRow) -> bool: ...

    @abstractmethod
    def _remove(self, digest: str) -> None: ...

    @abstractmethod
    def _names(self) -> set[str]: ...


class DirectoryBlobStore(BlobStore):
    """Blobs as files ``<root>/<sha[:2]>/<sha>``, written with write, fsync, rename."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def _write(self, digest: str, data: bytes) -> None:
        target = self.path(digest)
        if target.exists() and target.stat().st_size == len(data):
            existing = target.read_bytes()
            if sha256_hex(existing) == digest:
                return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(target.parent)

    def _attach(self, row: BlobRow, data: bytes) -> None:
        row.data = None

    def _read(self, row: BlobRow) -> bytes | None:
        try:
            return self.path(row.sha256).read_bytes()
        except FileNotFoundError:
            return None

    def _has(self, session: Session, row: BlobRow) -> bool:
        return self.path(row.sha256).exists()

    def _remove(self, digest: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(digest))

    def _names(self) -> set[str]:
        if not self.root.exists():
            return set()
        return {
            p.name
            for p in self.root.glob("??/*")
            if p.is_file() and not p.name.startswith(".tmp-") and len(p.name) == 64
        }


class DatabaseBlobStore(BlobStore):
    """Blobs in the ``blob.data`` column, in the act's own transaction."""

    def _write(self, digest: str, data: bytes) -> None:
        return None

    def _attach(self, row: BlobRow, data: bytes) -> None:
        row.data = data

    def _read(self, row: BlobRow) -> bytes | None:
        return row.data

    def _has(self, session: Session, row: BlobRow) -> bool:
        return row.data is not None

    def _remove(self, digest: str) -> None:
        return None

    def _names(self) -> set[str]:
        return set()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
