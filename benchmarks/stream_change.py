"""Did a change of the random numbers change only the random numbers? The café scenario's
summary under two revisions of the code, metric by metric: each mean after the change
against the mean before, with the 95% interval of their difference (the two runs are
independent samples, so the half-widths add in quadrature). A change that is only the
random stream leaves about 95% of the means within those intervals; a change of a
mechanism moves many of them.

    python benchmarks/stream_change.py --before HEAD~1 --after HEAD
    python benchmarks/stream_change.py --before 9768101 --after HEAD --reps 10 --days 365

Each revision is exported with ``git archive`` into a temporary folder and run there in
a subprocess (one worker), so the working tree is never touched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

RUN = """
import json, sys
import loyaltysim
from loyaltysim.scenario import load_scenario
scenario = load_scenario(sys.argv[1], sys.argv[2:])
print(json.dumps(loyaltysim.run(scenario, workers=1).summary()))
"""


def summary(revision: str, overrides: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", revision], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": folder}
        out = subprocess.run(
            [sys.executable, "-c", RUN, str(Path(folder) / "scenarios" / "cafe.toml"), *overrides],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
        ).stdout
    return json.loads(out.strip().splitlines()[-1])


def compare(before: dict, after: dict) -> tuple[int, int, list[str]]:
    inside = total = 0
    outside = []
    for vb, va in zip(before["variants"], after["variants"], strict=True):
        name = vb.get("name", vb.get("variant", "?"))
        for metric, b in vb["metrics"].items():
            a = va["metrics"].get(metric)
            if a is None or b.get("ci95") is None or a.get("ci95") is None:
                continue
            half = math.hypot((b["ci95"][1] - b["ci95"][0]) / 2, (a["ci95"][1] - a["ci95"][0]) / 2)
            diff = a["mean"] - b["mean"]
            if half == 0 and diff == 0:
                continue  # a constant (a price, a count fixed by the scenario)
            total += 1
            if abs(diff) <= half:
                inside += 1
            else:
                outside.append(
                    f"{name} {metric}: before {b['mean']:.6g}, after {a['mean']:.6g}, "
                    f"difference {diff:+.4g} (interval +-{half:.4g})"
                )
    return inside, total, outside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision before the change")
    parser.add_argument("--after", default="HEAD", help="git revision after it")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    overrides = [f"scenario.replications={args.reps}", f"scenario.horizon_days={args.days}"]
    before = summary(args.before, overrides)
    after = summary(args.after, overrides)
    inside, total, outside = compare(before, after)
    print(
        f"café, {args.reps} replications x {args.days} days, {args.before} -> {args.after}: "
        f"{inside} of {total} metric means ({inside / max(total, 1):.0%}) agree within the "
        "95% interval of their difference"
    )
    for line in outside:
        print("  outside:", line)


if __name__ == "__main__":
    main()
