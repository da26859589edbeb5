"""Run folders that are safe to use: chosen without overwriting, locked while a run
writes them, replaced only by a finished run, removed when a run fails before it
has anything worth keeping.

- A default folder (``runs/<name>``) is never reused: ``runs/<name>-2``, ``-3``, ...
- An explicit folder that holds a run (or other files) is refused, unless
  ``overwrite``: the new run is then built in a hidden sibling folder that
  replaces the old one only once the new run has written all its outputs.
- ``resume`` continues a run in place.
- A lock file (``.diffrast.lock``, holding the PID) is taken with ``flock`` for the
  whole run: a second run into the same folder is refused naming the first one's
  PID; the lock of a process that died goes with it (the kernel releases it).
- What a replacing run killed outright (SIGKILL, power loss) leaves beside the
  folder is tidied by the next run into it: a half-built replacement
  (``.NAME.new-*``) is removed once that run holds the folder's lock (so no live
  run is building it), and an old run parked in ``.NAME.old-*/run`` while the
  folder itself is missing (killed between the two renames of the swap) is put
  back first.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .errors import ConfigError, OutputError

LOCK = ".diffrast.lock"
DEFAULT_ROOT = Path("runs")
# Files that mark a folder as a diffrast run (any one of them).
RUN_MARKERS = ("job.yaml", "report.json", "checkpoint.npz", "checkpoint.prev.npz", "metrics.jsonl")
# Files whose presence makes a failed run's folder worth keeping (it can resume).
KEEP_MARKERS = ("checkpoint.npz", "checkpoint.prev.npz")


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def holds_run(folder: Path) -> bool:
    return any((folder / name).exists() for name in RUN_MARKERS)


def _contents(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n != LOCK]


class FolderLock:
    """An exclusive ``flock`` on ``folder/.diffrast.lock``, which holds the owner's PID."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self.fd = None

    def acquire(self) -> "FolderLock":
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise OutputError(f"{self.folder}: cannot write the output folder ({_reason(exc)})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise OutputError(f"{self.folder}: cannot lock the output folder ({_reason(exc)})") from None
                raise busy(self.folder, owner) from None
            try:                       # its previous owner may have removed the file before we locked it
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)        # a stale lock (its process died) is taken over
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            self.fd = fd
            return self

    def holder(self) -> str | None:
        """The PID written by the process holding the lock, or None if nobody holds it."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            if os.fstat(self.fd).st_ino == os.stat(self.path).st_ino:
                os.unlink(self.path)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None


def busy(folder: Path, owner: str) -> OutputError:
    return OutputError(f"{folder}: in use by another diffrast run (PID {owner}); wait for it to end or "
                       f"choose another folder")


def check_target(out: Path | None, *, overwrite: bool, resume: bool) -> None:
    """Refuse early (before any setup) an explicit folder this run may not write."""
    if out is None:
        return
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    owner = FolderLock(out).holder() if out.is_dir() else None
    if owner is not None:
        raise busy(out, owner)
    if resume:
        if not out.is_dir():
            raise ConfigError(f"--resume {out}: no such run folder")
        return
    if out.is_dir():
        _check_reusable(out, overwrite)


def _check_reusable(out: Path, overwrite: bool) -> bool:
    """True if ``out`` must be replaced (it holds a run and ``overwrite``); False if it is free."""
    try:
        names = _contents(out)
    except OSError as exc:
        raise OutputError(f"{out}: cannot read the output folder ({_reason(exc)})") from None
    if not names:
        return False
    if not holds_run(out):
        raise OutputError(f"{out}: the folder holds other files (not a diffrast run); choose a new or empty folder")
    if not overwrite:
        raise OutputError(f"{out}: holds a run already; choose another --out, resume it with --resume {out}, "
                          f"or replace it with --overwrite")
    return True


class RunFolder:
    """Where a run writes (``path``) and where it ends up (``final``).

    ``RunFolder.open(...)`` claims and locks the folder; ``commit()`` after the last
    output (it moves a replacement into place); ``close(failed)`` releases the lock and,
    after a failure, removes what this run created unless it holds a checkpoint (a
    replacement is always removed: the old run stays as it was)."""

    def __init__(self, final: Path, path: Path, lock: FolderLock, created: bool, replacing: bool,
                 emptied: bool = False):
        self.final, self.path, self.lock = final, path, lock
        self.created, self.replacing = created, replacing
        self.emptied = emptied          # an existing empty folder: on failure, empty it again
        self.committed = False

    @classmethod
    def open(cls, out: Path | None, name: str, *, overwrite: bool = False, resume: bool = False,
             root: Path = DEFAULT_ROOT) -> "RunFolder":
        if out is None:
            return cls._claim_default(Path(root), name)
        out = Path(out)
        _restore_parked(out)
        if resume:
            check_target(out, overwrite=False, resume=True)
            return cls(out, out, FolderLock(out).acquire(), created=False, replacing=False)
        created = _mkdir(out)
        lock = FolderLock(out).acquire()
        try:
            _remove_stale_staging(out)
            if created or not _check_reusable(out, overwrite):
                return cls(out, out, lock, created=created, replacing=False, emptied=not created)
            try:
                staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
            except OSError as exc:
                raise OutputError(f"{out.parent}: cannot write a folder next to {out.name} ({_reason(exc)})") from None
            return cls(out, staging, lock, created=True, replacing=True)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _claim_default(cls, root: Path, name: str) -> "RunFolder":
        n = 1
        while True:
            out = root / (name if n == 1 else f"{name}-{n}")
            if not out.exists():
                try:
                    _mkdir(out, exist_ok=False)
                except FileExistsError:        # another run claimed it first
                    pass
                else:
                    return cls(out, out, FolderLock(out).acquire(), created=True, replacing=False)
            n += 1

    def commit(self) -> None:
        """The run has written all its outputs: a replacement takes the old run's place."""
        if self.replacing and not self.committed:
            old = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.old-", dir=self.final.parent))
            try:
                os.replace(self.final, old / "run")
                try:
                    os.replace(self.path, self.final)
                except OSError:
                    os.replace(old / "run", self.final)
                    raise
            except OSError as exc:
                shutil.rmtree(old, ignore_errors=True)
                raise OutputError(f"{self.final}: cannot replace the old run ({_reason(exc)}); it is intact, "
                                  f"the new one is in {self.path}") from None
            self.path = self.final
            shutil.rmtree(old, ignore_errors=True)
        self.committed = True

    def close(self, failed: bool) -> None:
        try:
            keep = any((self.path / n).exists() for n in KEEP_MARKERS) and not self.replacing
            if failed and not self.committed and not keep:
                if self.created:
                    shutil.rmtree(self.path, ignore_errors=True)
                elif self.emptied:
                    for name in _contents(self.path):
                        p = self.path / name
                        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        finally:
            self.lock.release()


def _leftovers(out: Path, kind: str) -> list[Path]:
    """Siblings ``.NAME.<kind>-XXXXXXXX`` that tempfile.mkdtemp made for ``out`` (the random
    part has no dot, so ``.NAME.new-x.new-...`` of a folder named ``NAME.new-x`` is not ours)."""
    prefix = f".{out.name}.{kind}-"
    try:
        names = os.listdir(out.parent)
    except OSError:
        return []
    return [out.parent / n for n in names if n.startswith(prefix) and "." not in n[len(prefix):]
            and (out.parent / n).is_dir()]


def _restore_parked(out: Path) -> None:
    """An old run parked by a swap that never finished goes back to ``out``."""
    if out.exists() or out.is_symlink():
        return
    parked = [p for p in _leftovers(out, "old") if (p / "run").is_dir()]
    if len(parked) != 1:
        return
    try:
        os.replace(parked[0] / "run", out)
        parked[0].rmdir()
    except OSError:
        return
    print(f"diffrast: note: {out}: put back the previous run, left aside by a run that was killed "
          f"while replacing it", file=sys.stderr)


def _remove_stale_staging(out: Path) -> None:
    """Half-built replacements of ``out`` left by killed runs (the caller holds out's lock)."""
    for staging in _leftovers(out, "new"):
        shutil.rmtree(staging, ignore_errors=True)


def _mkdir(out: Path, exist_ok: bool = True) -> bool:
    """Create ``out`` (and its parents); True if this call created it."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    existed = out.is_dir()
    try:
        out.mkdir(parents=True, exist_ok=exist_ok)
    except FileExistsError:
        if not exist_ok:
            raise
        raise OutputError(f"{out}: exists and is not a folder") from None
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the output folder ({_reason(exc)})") from None
    return not existed
