"""No test asserts on wall-clock time: CI machines are loaded (issue #9, item 1).

A figure of speed belongs to a script in ``benchmarks/`` that prints it. This test reads
every test module and fails on a read of the clock, the only way a test can time itself.
Waiting is allowed (``time.sleep``, a subprocess ``timeout=``); timing is not.
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CLOCK = re.compile(
    r"\b(perf_counter|perf_counter_ns|monotonic|monotonic_ns|process_time|thread_time)\s*\("
    r"|\btime\.time(_ns)?\s*\("
    r"|\bdatetime\.now\s*\(\s*\)\s*-"
)


def test_no_test_reads_the_clock() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{number}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != Path(__file__).name
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if CLOCK.search(line)
    ]
    assert not offenders, "tests that time themselves (move the figure to benchmarks/):\n" + (
        "\n".join(offenders)
    )
