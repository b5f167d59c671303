"""Executors: serial, a local process pool, or a Dask cluster, behind one interface.

Each takes picklable tasks and yields ``(key, result)`` pairs as they finish; the caller
files results by key, never by completion order, so every executor gives the same numbers.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from loyaltysim.interruption import worker_initializer
from loyaltysim.model.population import PopulationLimitError

T = TypeVar("T")
R = TypeVar("R")


class ExecutorError(RuntimeError):
    """A worker failed; the message names the task and what went wrong."""


class Executor(Protocol):
    def map_unordered(
        self, fn: Callable[[T], R], tasks: Sequence[T]
    ) -> Iterator[tuple[int, R]]: ...


class SerialExecutor:
    """Runs tasks one after another in this process (the reference for reproducibility)."""

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        for key, task in enumerate(tasks):
            yield key, fn(task)


class ProcessExecutor:
    """A local pool of ``workers`` processes. At most ``2 x workers`` tasks are in flight,
    so a long sweep does not queue (and hold in memory) every task at once, and an
    interruption loses only the tasks in flight."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        pool = ProcessPoolExecutor(max_workers=self.workers, initializer=worker_initializer)
        pending: dict[Future[R], int] = {}
        queue = iter(enumerate(tasks))
        try:
            for key, task in queue:
                pending[pool.submit(fn, task)] = key
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                # Hand on every success in this batch before reporting a failure in it, so
                # that work which did finish is kept by the caller.
                failure: tuple[str, BaseException] | None = None
                finished: list[tuple[int, R]] = []
                for future in sorted(done, key=pending.__getitem__):
                    key = pending.pop(future)
                    try:
                        finished.append((key, future.result()))
                    except BrokenProcessPool as exc:
                        why = f"a worker process died (killed, or out of memory?): {exc}"
                        failure = failure or (f"task {key} failed: {why}", exc)
                    except PopulationLimitError as exc:  # says what and why already
                        failure = failure or (str(exc), exc)
                    except Exception as exc:  # a failing task
                        failure = failure or (f"task {key} failed: {exc!r}", exc)
                if failure is None:
                    for _ in finished:
                        nxt = next(queue, None)
                        if nxt is not None:
                            pending[pool.submit(fn, nxt[1])] = nxt[0]
                yield from finished
                if failure is not None:
                    raise ExecutorError(failure[0]) from failure[1]
        except BaseException:
            # Ctrl-C, SIGTERM or a failure: the tasks in flight are lost anyway, so stop
            # their workers now rather than wait for them (a scheduler's grace period is
            # short), and leave no process behind.
            stop_workers(pool)
            raise
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's worker processes and reap them (they ignore SIGINT and SIGTERM)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.kill()
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            process.join(timeout=30)
    # A worker killed while it sent a result leaves half a message in the result pipe, and
    # the pool's manager thread waits for the rest for ever: shutdown() never returned (a
    # SIGTERM'd run hung, now and then, under load). With the workers dead, this process
    # holds the pipe's last write end; closing it ends that read (end of file), and the
    # pool shuts down as broken. (Private attributes, so looked up defensively.)
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    with contextlib.suppress(OSError, AttributeError):
        writer.close()  # type: ignore[union-attr]


class DaskExecutor:
    """Tasks on a Dask distributed cluster at ``address`` (``tcp://host:port``), or on an
    in-process ``LocalCluster`` when ``address`` is ``"local"`` (used by the tests).
    Needs the ``[distributed]`` extra."""

    def __init__(self, address: str, workers: int | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ExecutorError(
                "the Dask scheduler needs the optional extra: pip install 'loyaltysim[distributed]'"
            ) from exc
        self._cluster: Any = None
        if address == "local":
            self._cluster = LocalCluster(
                n_workers=workers or 2, threads_per_worker=1, processes=False
            )
            self.client = Client(self._cluster)
        else:
            self.client = Client(address, timeout="10s")

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        """Like :meth:`ProcessExecutor.map_unordered`: at most two tasks per worker thread
        are on the cluster at once, and each result is released there as soon as it is
        gathered, so neither the client nor the cluster holds a whole sweep."""
        from dask.distributed import as_completed

        threads = sum(self.client.nthreads().values()) or 1
        limit = max(2, 2 * threads)
        queue = iter(enumerate(tasks))
        futures: dict[Any, int] = {}
        flow = as_completed()

        def submit_next() -> None:
            nxt = next(queue, None)
            if nxt is not None:
                future = self.client.submit(fn, nxt[1], pure=False)
                futures[future] = nxt[0]
                flow.add(future)

        try:
            for _ in range(limit):
                submit_next()
            for future in flow:
                key = futures.pop(future)
                try:
                    result = future.result()
                except Exception as exc:
                    raise ExecutorError(f"task {key} failed on the cluster: {exc!r}") from exc
                future.release()
                submit_next()
                yield key, result
        finally:
            self.client.cancel(list(futures))

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor the options ask for: Dask if a scheduler address is given (or in
    ``DASK_SCHEDULER_ADDRESS``), else serial for one worker, else a process pool."""
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        return DaskExecutor(address, workers)
    count = workers or os.cpu_count() or 1
    return SerialExecutor() if count == 1 else ProcessExecutor(count)
