"""Regenerate the gallery: charts drawn by loyaltysim from the shipped scenarios.

Run from the repository root::

    python docs/make_gallery.py            # ~3-5 minutes on 2 cores

It simulates a few shipped scenarios with a handful of replications (enough for a
picture, not for a decision: the reports of real runs use 30), draws charts with
:mod:`loyaltysim.output.charts`, writes them to ``docs/images/`` as PNG at 110 dpi (small
enough to commit), and writes ``docs/gallery.md``. Same code, same seeds: same pictures.

Two charts need several runs of one scenario: the safe-discount frontier (grocery, a flat
discount from 0% to 20%) and a two-parameter heat map (gym, discount against the chain
club's price). Both are built here from :func:`loyaltysim.run` summaries, one variant per
point, so every point shares the same customers and luck (common random numbers).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import loyaltysim  # noqa: E402
from loyaltysim.experiment import make_executor  # noqa: E402
from loyaltysim.experiment.frontier import run_frontier  # noqa: E402
from loyaltysim.output import charts as plotting  # noqa: E402
from loyaltysim.output import experiment_charts  # noqa: E402
from loyaltysim.scenario import Scenario, load_scenario, load_scenario_text  # noqa: E402
from loyaltysim.workflows.frontier import frontier_figure  # noqa: E402

IMAGES = ROOT / "docs" / "images"
GALLERY = ROOT / "docs" / "gallery.md"
DPI = 110
REPS = 8
COMMAND = "python docs/make_gallery.py"


def _save(fig: Any, name: str) -> Path:
    path = plotting.save_figure(fig, IMAGES / name, dpi=DPI, formats=(".png",))[0]
    print(f"  {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} kB)")
    return path


def _run(scenario: Scenario, reps: int, workers: int | None) -> Any:
    started = time.perf_counter()
    results = loyaltysim.run(scenario, replications=reps, workers=workers)
    print(f"  {scenario.scenario.name}: {reps} reps in {time.perf_counter() - started:.0f} s")
    return results


def _with_variants(path: Path, variants: Sequence[tuple[str, dict[str, Any]]]) -> Scenario:
    """The scenario file with its own variants replaced by ``variants``."""
    text = path.read_text("utf-8")
    head = text.split("[[variants]]", 1)[0]
    blocks = []
    for name, changes in variants:
        pairs = ", ".join(f'"{k}" = {_toml(v)}' for k, v in changes.items())
        blocks.append(f'[[variants]]\nname = "{name}"\nset = {{ {pairs} }}\n')
    return load_scenario_text(head + "\n".join(blocks), str(path))


def _toml(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def run_charts(workers: int | None) -> dict[str, str]:
    """The run charts of the café and the grocery store."""
    made = {}
    cafe = load_scenario(ROOT / "scenarios" / "cafe.toml")
    runs = _run(cafe, REPS, workers).runs
    figures = plotting.run_charts(cafe, runs)
    for chart, title in (
        ("customers", "Customers kept by each plan (café)"),
        ("cash", "Cash, with the ruin floor (café)"),
        ("profit_vs_base", "Profit against the base, paired by run (café)"),
        ("churn_causes", "Why customers left (café)"),
        ("defector_satisfaction", "The satisfied defectors (café)"),
    ):
        _save(figures[chart], f"cafe-{chart.replace('_', '-')}")
        made[f"cafe-{chart.replace('_', '-')}"] = title

    grocery = load_scenario(ROOT / "scenarios" / "grocery.toml")
    runs = _run(grocery, REPS, workers).runs
    _save(plotting.cumulative_profit_chart(runs), "grocery-cumulative-profit")
    made["grocery-cumulative-profit"] = "Cumulative profit at a 25% margin (grocery)"
    return made


def frontier(workers: int | None) -> dict[str, str]:
    """Cash under 5% and 10% off, and the frontier of a flat discount from 0% to 20%, in
    the grocery store."""
    path = ROOT / "scenarios" / "grocery.toml"
    offers = [(f"{r:.1%} off", {"discount.kind": "flat", "discount.rate": r}) for r in (0.05, 0.10)]
    scenario = _with_variants(path, offers)
    _save(plotting.cash_chart(_run(scenario, REPS, workers).runs, scenario), "grocery-cash")
    # The frontier by the code of `loyaltysim frontier`. Eight runs with no ruin can only
    # show a risk below 32%, so the picture uses a 35% limit; a decision would use the
    # guard's 5% and the 73 runs `loyaltysim frontier` then chooses by itself.
    rates = [0.0, 0.025, 0.05, 0.075, 0.10, 0.125, 0.15, 0.20]
    points = {
        rate: load_scenario(
            path,
            {"discount.kind": "flat", "discount.rate": rate, "scenario.replications": REPS},
        )
        for rate in rates
    }
    result = run_frontier(points, "discount.rate", 0.35, make_executor(workers))
    _save(frontier_figure(result, points[rates[0]]), "grocery-frontier")
    return {
        "grocery-cash": "At a 25% margin, 10% off runs the grocer out of cash (grocery)",
        "grocery-frontier": "The safe-discount frontier of a flat discount (grocery)",
    }


def heatmap(workers: int | None) -> dict[str, str]:
    """Gym profit over two years: discount on dues against the chain club's price."""
    import numpy as np

    rates = [0.0, 0.1, 0.2, 0.3]
    prices = [33.0, 36.0, 39.0, 42.0]
    variants = [
        (f"{r:.0%} off, chain at {p:.0f}",
         {"discount.kind": "flat", "discount.rate": r, "competitor.price": p})
        for p in prices for r in rates
    ]  # fmt: skip
    scenario = _with_variants(ROOT / "scenarios" / "gym.toml", variants)
    summary = _run(scenario, max(4, REPS // 2), workers).summary()
    by_name = {v["name"]: v for v in summary["variants"]}
    grid = np.array(
        [[by_name[f"{r:.0%} off, chain at {p:.0f}"]["metrics"]["profit"]["mean"] for r in rates]
         for p in prices]
    )  # fmt: skip
    fig = experiment_charts.sweep_heatmap(
        rates,
        prices,
        grid,
        "discount.rate (share of dues)",
        "competitor.price (currency units/month)",
        "profit over two years (currency units)",
    )
    _save(fig, "gym-heatmap")
    return {"gym-heatmap": "Discount against the rival's price: profit (gym)"}


DESCRIPTIONS: dict[str, str] = {
    "cafe-customers": "Active customers per plan: the median over runs and the band that "
    "holds 90% of them. Ten percent off keeps more customers; whether it pays is another "
    "chart.",
    "cafe-cash": "Cash at the end of each day, with the floor below which the business is "
    "ruined; a cross would mark each ruined run. The saw-tooth is the rent, paid at the "
    "start of each month.",
    "cafe-profit-vs-base": "Each plan's profit minus the base's, run by run on the same "
    "customers (common random numbers). Thick bar: paired 95% interval; faint: the interval "
    "the same runs would give without pairing.",
    "cafe-churn-causes": "Why customers left, as shares of all defections: staff "
    "indifference and poor service are counted apart.",
    "cafe-defector-satisfaction": "Satisfaction at the moment of leaving: most defectors "
    "were satisfied (the shaded band), the stylized fact behind 'satisfaction is not "
    "loyalty'.",
    "grocery-cumulative-profit": "At a 25% gross margin a monthly 20%-off week needs sales "
    "to quintuple during the sale; the simulated customers do not oblige.",
    "grocery-cash": "Cash of the grocery store with no discount, 5% off and 10% off "
    "everything. Ten percent off needs sales to rise by two thirds just to stand still; "
    "they do not, and every run hits the floor (the crosses mark each ruin).",
    "grocery-frontier": "Profit (left axis) and probability of ruin (right axis) as a flat "
    "discount deepens. The vertical line is the cliff, the first value at which a run was "
    "ruined; the star is the most profitable value short of it.",
    "gym-heatmap": "A two-parameter sweep: profit of the gym over two years for each "
    "discount on dues and each price of the chain club across town (blue: profit, red: "
    "loss).",
}


def write_gallery(made: dict[str, str]) -> None:
    """``docs/gallery.md``: every image, what it shows, and how to make it again."""
    lines = [
        "## Gallery",
        "",
        "Charts drawn by loyaltysim from the shipped scenarios in `scenarios/`. Each chart "
        "is also written, as PNG and SVG, into the `charts/` folder of every run, and "
        "embedded in the report (`loyaltysim report RUN_DIR`). The palette is Okabe-Ito, "
        "readable with every common colour-vision deficiency.",
        "",
        "Regenerate every image on this page (a few minutes; the runs use "
        f"{REPS} replications per plan, enough for a picture, not for a decision) with:",
        "",
        "```sh",
        COMMAND,
        "```",
        "",
        "Your own runs draw the same charts: `loyaltysim run scenarios/cafe.toml` writes "
        "them to `results/corner-cafe/<time>/charts/`, and "
        "`loyaltysim report results/corner-cafe/<time>/` puts them in a client report.",
        "",
    ]
    for name, title in made.items():
        lines += [
            f"### {title}",
            "",
            f"![{title}](images/{name}.png)",
            "",
            DESCRIPTIONS.get(name, ""),
            "",
        ]
    GALLERY.write_text("\n".join(lines).rstrip() + "\n", "utf-8")
    print(f"  {GALLERY.relative_to(ROOT)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenarios, draw the charts, write the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    args = parser.parse_args(argv)
    IMAGES.mkdir(parents=True, exist_ok=True)
    made: dict[str, str] = {}
    made.update(run_charts(args.workers))
    made.update(frontier(args.workers))
    made.update(heatmap(args.workers))
    write_gallery(made)
    total = sum(p.stat().st_size for p in IMAGES.glob("*.png"))
    print(f"{len(made)} images, {total / 1e6:.1f} MB in {IMAGES.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
