"""One output folder, one run: claiming a results folder and locking it while a run writes.

Two runs started into the same ``--output`` used to both exit 0, the second silently
replacing the first's tables. A run now claims its folder before it simulates: it creates
the folder and takes an exclusive, non-blocking lock on ``DIR/.lock`` (``fcntl.flock`` on
POSIX, ``msvcrt.locking`` on Windows). A second run into a folder that is held refuses at
once (:class:`FolderInUse`, exit 2). The operating system drops the lock when the holder's
process ends, however it ends, so a killed run never leaves a folder locked for good; the
lock file itself stays (removing it would let two runs lock two different files).

Without ``--output`` the folder is fresh: ``mkdir`` without ``exist_ok`` is atomic, so two
runs started in the same second get ``...Z`` and ``...Z-2`` instead of sharing one.

Problems with the folder itself (read-only, below a plain file, a full disk, under
``/proc``) are :class:`OutputFolderError` with a sentence, never a bare ``OSError``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from loyaltysim.scenario.schema import Scenario

LOCK_NAME = ".lock"

_REASONS = {
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of the path is a plain file, not a folder",
    errno.EEXIST: "a plain file of that name is in the way",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.ENOENT: "a part of the path does not exist and cannot be created",
    errno.ENAMETOOLONG: "the path is too long",
}


class OutputFolderError(Exception):
    """The results folder cannot be used; the message says which and why. Exit 2."""

    exit_code = 2


class FolderInUse(OutputFolderError):
    """Another run holds the folder's lock."""


def describe_os_error(exc: OSError) -> str:
    """A sentence for an ``OSError`` about a path: what is wrong, in words."""
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    return reason


def _folder_error(path: Path, exc: OSError) -> OutputFolderError:
    return OutputFolderError(
        f"cannot write the results folder {path}: {describe_os_error(exc)}; choose another --output"
    )


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False if another process has it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class FolderLock:
    """An exclusive lock on a results folder, held until :meth:`release` (or the end of
    the process). Usable as a context manager."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Drop the lock (idempotent). Inside a :func:`command_session` the lock is kept
        until the command ends, so that the command can still mark the folder."""
        if _session is not None and self in _session:
            return
        self.close()

    def close(self) -> None:
        """Drop the lock now. Closing the descriptor releases it."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __del__(self) -> None:  # a lock forgotten on an error path must not outlive it
        self.close()


def lock_folder(path: Path | str) -> FolderLock:
    """Create ``path`` (and its parents) if needed and lock it for this process.

    Raises
    ------
    FolderInUse
        If another run holds the folder.
    OutputFolderError
        If the folder cannot be created or written.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _folder_error(path, exc) from None
    if not _try_lock(fd):
        os.close(fd)
        raise FolderInUse(
            f"{path} is in use by another run that is still writing to it; wait for it to "
            "end or choose another --output"
        )
    held = FolderLock(path, fd)
    if _session is not None:
        _session.append(held)
    return held


# Folders claimed during the current command (see command_session); None outside one.
_session: list[FolderLock] | None = None


@contextlib.contextmanager
def command_session() -> Iterator[list[FolderLock]]:
    """Hold every folder claimed inside the block until the block ends, then release them.

    The command line wraps each command in one, so that a folder stays locked while the
    command still works on it (charts after a sweep's rows) and can be marked when the
    command fails (:func:`loyaltysim.output.ending.settle_claimed`).
    """
    global _session
    outer, _session = _session, []
    try:
        yield _session
    finally:
        held, _session = _session, outer
        for folder in held:
            folder.close()


def claimed() -> list[FolderLock]:
    """The folders the current command holds."""
    return list(_session or [])


def claim_fresh_folder(pick: Callable[[], Path]) -> FolderLock:
    """Create a folder that did not exist and lock it. ``pick`` names a folder that does
    not exist yet (:func:`loyaltysim.output.folder.run_dir_for`); when another run creates it
    first, ``pick`` is asked again. ``mkdir`` is atomic: two runs never share a folder."""
    for _ in range(10_000):
        candidate = pick()
        try:
            candidate.parent.mkdir(parents=True, exist_ok=True)
            candidate.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise _folder_error(candidate, exc) from None
        return lock_folder(candidate)
    raise OutputFolderError(f"could not create a fresh results folder near {pick()}")


def claim_run_dir(
    scenario: Scenario,
    output: Path | str | None,
    root: Path = Path("results"),
    kind: str | None = None,
) -> FolderLock:
    """The locked folder a run writes: ``output`` if given (created if needed; refused if
    another run holds it), else a fresh ``root/<slug>/<UTC timestamp>`` folder."""
    if output is not None:
        return lock_folder(output)
    from loyaltysim.output.folder import run_dir_for

    return claim_fresh_folder(lambda: run_dir_for(scenario, None, root=root, kind=kind))
