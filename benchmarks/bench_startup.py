"""Start-up time of the commands users type first: `loyaltysim --help` and `validate`.

Each command runs ``--repeat`` times in a fresh process (``python -m loyaltysim ...``,
what the ``loyaltysim`` script runs); the table gives the median and fastest wall time
(``time.perf_counter``), the median CPU seconds (``RUSAGE_CHILDREN``: what a loaded
machine inflates least), the same for a bare ``python -c pass`` (the interpreter's own
start-up, on this machine now), and the milliseconds of every import the command makes,
by ``python -X importtime``. Goal (issue #15): under 0.4 s. Which heavy libraries each
command imports is a test (``tests/test_startup_imports.py``), not a figure.

    python benchmarks/bench_startup.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "loyaltysim --help": ["-m", "loyaltysim", "--help"],
    "loyaltysim validate cafe": ["-m", "loyaltysim", "validate", "scenarios/cafe.toml"],
    "loyaltysim run --help": ["-m", "loyaltysim", "run", "--help"],
}


def import_ms(args: list[str]) -> float:
    """Milliseconds ``-X importtime`` gives every import the command makes (the sum of the
    top-level entries: the interpreter's own start-up, ``site`` included, and the
    package's, lazy imports in the command's body included)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], cwd=ROOT, capture_output=True, text=True
    )
    top = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \| \S", done.stderr, re.M)
    return sum(int(us) for us in top) / 1000


def cpu_seconds() -> float:
    """CPU time (user + system) of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONPATH", str(ROOT))  # the package of this checkout
    print(f"medians of {args.repeat} fresh processes; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    print(f"{'command':<26} {'median s':>8} {'fastest s':>9} {'cpu s':>6} {'imports ms':>10}")
    for name, command in COMMANDS.items():
        walls, cpus = [], []
        for _ in range(args.repeat):
            c0, t0 = cpu_seconds(), time.perf_counter()
            subprocess.run([sys.executable, *command], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            walls.append(time.perf_counter() - t0)
            cpus.append(cpu_seconds() - c0)
        print(
            f"{name:<26} {statistics.median(walls):>8.3f} {min(walls):>9.3f} "
            f"{statistics.median(cpus):>6.3f} {import_ms(command):>10.0f}"
        )


if __name__ == "__main__":
    main()
