"""Every way a run can end leaves its folder saying so.

A results folder's manifest says ``running`` while a run writes it and ``complete``,
``interrupted`` or ``failed`` (with the error) once it has ended, whatever ended it: a
finished run, Ctrl-C or SIGTERM, a worker that died, a full disk while drawing charts or
writing the summary. The workflows mark their folders themselves; :func:`command_session`
is the net under them: the command line holds every folder it claimed until the command
ends, and :func:`settle_claimed` marks any folder still ``running`` when an exception or
an interruption ends the command.

A full disk is the one failure that can also stop the manifest being rewritten (an
atomic rewrite needs room for a second copy). :func:`update_manifest` then overwrites the
manifest in place, which reuses the blocks the file already has, so even then the folder
says ``failed`` and why, and nothing that was written is deleted.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loyaltysim.output import lock as _lock
from loyaltysim.output.lock import describe_os_error

MANIFEST = "manifest.json"
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def describe_failure(exc: BaseException) -> str:
    """What went wrong, in words: a full disk is said as such, with the file."""
    # Imported on failure only: every command, `--help` too, imports this module.
    from loyaltysim.model.population import PopulationLimitError

    for cause in _chain(exc):
        if isinstance(cause, PopulationLimitError):  # names its mechanism and settings
            return str(cause)
        if isinstance(cause, OSError) and cause.errno in DISK_FULL:
            where = f" while writing {cause.filename}" if cause.filename else ""
            return (
                f"{describe_os_error(cause)}{where}; what was written before is kept, free "
                "some space and run again"
            )
    return f"{type(exc).__name__}: {exc}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def update_manifest(run_dir: Path | str, **updates: Any) -> bool:
    """Merge ``updates`` into ``run_dir/manifest.json``; False if it cannot be done.

    Atomic (temp file and rename) when the disk allows; on a full disk, in place.
    """
    from loyaltysim.analysis.summary import dumps
    from loyaltysim.output.folder import atomic_write_text

    path = Path(run_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    manifest.update(updates)
    text = dumps(manifest) + "\n"
    try:
        atomic_write_text(path, text)
        return True
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            return False
    try:  # in place: no new blocks needed for a file of about the same size
        fd = os.open(path, os.O_WRONLY)
        try:
            data = text.encode("utf-8")
            os.write(fd, data)
            os.ftruncate(fd, len(data))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        return False
    return True


def manifest_status(run_dir: Path | str) -> str | None:
    """The ``status`` in ``run_dir/manifest.json`` (None without a readable manifest)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        status = json.loads((Path(run_dir) / MANIFEST).read_text("utf-8")).get("status")
        return str(status) if status is not None else None
    return None


def mark_ended(run_dir: Path | str, status: str, error: str | None = None) -> bool:
    """Say in the manifest that the run ended with ``status`` (and ``error``)."""
    updates: dict[str, Any] = {
        "status": status,
        "ended_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    if error is not None:
        updates["error"] = error
    return update_manifest(run_dir, **updates)


def settle_claimed(status: str, error: str | None = None) -> list[Path]:
    """Mark the folders this command claimed whose manifest does not yet say how the run
    ended: ``running`` ones always; ``complete`` ones too when ``status`` is ``failed``
    (a step after the results, such as a chart, failed). Returns the folders marked."""
    marked = []
    for held in _lock.claimed():
        current = manifest_status(held.path)
        unsettled = current == "running" or (status == "failed" and current == "complete")
        if unsettled and mark_ended(held.path, status, error):
            marked.append(held.path)
    return marked


command_session = _lock.command_session
