"""Stopping a process pool never hangs on a result a killed worker half sent.

A run stopped by SIGTERM kills its pool's workers (they ignore the signal) and shuts the
pool down. A worker killed in the middle of sending a result leaves half a message in the
result pipe, and the pool's manager thread then waits for the rest: without the fix
shutdown() never returned (seen as a SIGTERM'd run that hung, now and then, under load).
The test puts such half a message in the pipe itself, as a killed worker leaves it, so it
does not depend on when a kill lands.
"""

from __future__ import annotations

import os
import struct
import threading
from concurrent.futures import ProcessPoolExecutor

from loyaltysim.experiment.executors import stop_workers
from loyaltysim.interruption import worker_initializer


def test_the_pool_shuts_down_after_a_worker_died_mid_result() -> None:
    pool = ProcessPoolExecutor(max_workers=1, initializer=worker_initializer)
    assert pool.submit(abs, -1).result() == 1  # up, its manager thread reading results
    writer = pool._result_queue._writer  # type: ignore[attr-defined]
    # A message header announcing a megabyte, and a few bytes of it.
    os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"half a result")
    stop_workers(pool)
    finished = threading.Event()

    def shut_down() -> None:
        pool.shutdown(wait=True, cancel_futures=True)
        finished.set()

    threading.Thread(target=shut_down, daemon=True).start()
    try:
        assert finished.wait(timeout=60), "shutdown still waits for the half-sent result"
    finally:
        if not finished.is_set():  # release the stuck reader, or this process cannot exit
            writer.close()
