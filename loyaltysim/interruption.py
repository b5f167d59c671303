"""SIGTERM is an interruption, like Ctrl-C: one place for every command.

A batch scheduler (Slurm, Kubernetes, systemd, ``timeout``) stops a job with SIGTERM, then
SIGKILL after a grace period. Python's default for SIGTERM is to die on the spot: no
``finally``, the manifest left ``running`` and the pool's workers living on with parent 1.
While a command runs, :func:`sigterm_interrupts` turns the first SIGTERM into
:class:`Terminated`, a :class:`KeyboardInterrupt`, so every path that keeps finished work
on Ctrl-C keeps it on SIGTERM too. The exit code then says which signal it was: 130
(128 + SIGINT) for Ctrl-C, 143 (128 + SIGTERM) for SIGTERM, as shells report them.

Worker processes ignore SIGINT and SIGTERM (:func:`worker_initializer`): the parent, which
knows what is finished, decides, and stops them with SIGKILL (they hold nothing worth
saving). Nothing here imports click.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

EXIT_SIGINT = 128 + signal.SIGINT  # 130
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143

_received: int | None = None
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by a signal other than Ctrl-C (SIGTERM)."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = signum

    def __str__(self) -> str:
        return f"stopped by {signal.Signals(self.signum).name}"


def received() -> int | None:
    """The signal that interrupted this command (None: none, or Ctrl-C)."""
    return _received


def interrupted_exit_code() -> int:
    """143 when SIGTERM interrupted the command, else 130."""
    return EXIT_SIGTERM if _received == signal.SIGTERM else EXIT_SIGINT


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global _received
    first = _received is None
    _received = signum
    if first:  # a second SIGTERM during the clean-up must not cut the clean-up short
        raise Terminated(signum)


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While the block runs, the first SIGTERM raises :class:`Terminated` in the main
    thread; the previous handler is restored afterwards. A no-op off the main thread,
    where Python cannot install signal handlers."""
    global _received
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received = None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def worker_initializer() -> None:
    """Run in each worker process of a pool: leave interruptions to the parent, and die
    with it (Linux), so that not even a SIGKILL of the parent leaves a worker behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
