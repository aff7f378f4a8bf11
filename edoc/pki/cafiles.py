"""The CA's own material in ``<home>/pki/``: certificates (PEM) and keys (PKCS#12, encrypted).

Files are written with write, fsync, rename, fsync of the directory, so a crash leaves the old
file or the new one, never half of one. Key files are created with mode 0600 and hold only the
encrypted PKCS#12 (:func:`edoc.pki.keys.seal_private_key`): nothing plain is ever written, not
even to the temporary file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

ROOT_CERT = "root.pem"
ROOT_KEY = "root.key.p12"
ISSUING_CERT = "issuing.pem"
ISSUING_KEY = "issuing.key.p12"
ALL = (ROOT_CERT, ROOT_KEY, ISSUING_CERT, ISSUING_KEY)


class CaFiles:
    """``<home>/pki/``."""

    def __init__(self, home: Path) -> None:
        self.dir = Path(home) / "pki"

    def path(self, name: str) -> Path:
        return self.dir / name

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def present(self) -> list[str]:
        """Which of the CA files exist."""
        return [name for name in ALL if self.exists(name)]

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def write(self, name: str, data: bytes, *, secret: bool) -> Path:
        """Write ``data`` atomically; ``secret`` files are 0600 from their first byte."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(self.dir, 0o700)
        target = self.path(name)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=self.dir)  # mkstemp creates 0600
        try:
            if not secret:
                os.fchmod(fd, 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.dir)
        return target

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``pki/.lock`` exclusively: two ``pki init`` in one home never mix their files."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def set_aside(self, now: datetime) -> Path | None:
        """Move CA files that no database record points at into ``pki/orphaned-<time>/``.

        Such files come from a ``pki init`` whose database transaction failed (files are
        written before rows). They are kept, never deleted: key material is not thrown away.
        """
        present = self.present()
        if not present:
            return None
        target = self.dir / f"orphaned-{now.strftime('%Y%m%dT%H%M%S%fZ')}"
        target.mkdir(mode=0o700)
        for name in present:
            os.replace(self.path(name), target / name)
        _fsync_dir(self.dir)
        return target


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
