"""Output files written safely: every file goes to a temporary file in the same folder
and is ``os.replace``'d onto its name (``atomic_path``, ``atomic_write_bytes``): a full
disk, a read-only or unwritable folder gives a one-line ``OutputError`` naming the file
and the reason, the previous file keeps its bytes, and no temporary file is left."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from ..errors import OutputError

_REASONS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a parent is not a folder",
    errno.EISDIR: "a folder of that name exists",
    errno.EEXIST: "a file of that name exists",
    errno.EIO: "input/output error",
}


def _reason(exc: OSError) -> str:
    reason = _REASONS.get(exc.errno)
    detail = exc.strerror or str(exc) or exc.__class__.__name__
    if reason is None:
        return detail
    return reason if detail.lower() == reason else f"{reason}: {detail}"


def output_error(path, exc: OSError, existed: bool | None = None) -> OutputError:
    """The OutputError for a failed write of ``path`` (the previous file, if any, untouched)."""
    path = Path(path)
    if existed is None:
        existed = path.exists()
    after = "the previous file is intact" if existed else "nothing was written"
    return OutputError(f"{path}: cannot write ({_reason(exc)}); {after}")


def ensure_folder(path) -> Path:
    """Create the folder ``path`` (and parents) if missing; OutputError if that fails."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the output folder ({_reason(exc)})") from exc
    return path


def _remove(tmp: str | None) -> None:
    if tmp is None:
        return
    try:
        os.unlink(tmp)
    except OSError:
        pass


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; on success it replaces ``path`` (mode 0644).

    The temporary file exists (empty) when yielded and keeps ``path``'s
    suffix, so writers that guess the format from the name still work. On any
    exception it is removed and ``path`` is untouched; an OSError (while
    creating, writing, syncing or renaming) becomes an OutputError naming
    the file and the reason.
    """
    path = Path(path)
    existed = path.exists()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
        os.close(fd)
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)  # a full disk can surface only here; and the data must be on disk before the rename
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        _remove(tmp)
        raise output_error(path, exc, existed) from exc
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see ``atomic_path``); returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return path
