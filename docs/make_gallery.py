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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import loyaltysim  # noqa: E402
from loyaltysim.analysis.metrics import SATISFIED_THRESHOLD  # noqa: E402
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


def _final(runs: Sequence[Any], series: str) -> float:
    """The mean over ``runs`` of a daily series' last value."""
    return sum(float(r.daily[series][-1]) for r in runs) / len(runs)


def _break_even_rise(scenario: Scenario, rate: float) -> tuple[float, float]:
    """The gross margin and the rise in sales a discount of ``rate`` needs to keep the
    gross profit it gives away: d / (m - d) (the modelling basis's arithmetic)."""
    biz = scenario.business
    margin = 1 - biz.unit_cost / biz.price
    return margin, rate / (margin - rate)


# ``runs`` below: each plan's name and its runs, as ``Results.runs`` holds them.
def _customers_caption(runs: Mapping[str, Sequence[Any]]) -> str:
    kept = {name: _final(group, "customers") for name, group in runs.items()}
    most = max(kept, key=kept.__getitem__)
    listed = "; ".join(f"{name} {value:,.0f}" for name, value in kept.items())
    return (
        "Active customers per plan: the median over runs and the band that holds 90% of "
        f"them. Customers at the end, mean of {len(runs['base'])} "
        f"runs: {listed}. Most kept: {most}; whether it pays is another chart."
    )


def _defectors_caption(runs: Mapping[str, Sequence[Any]]) -> str:
    satisfied = leavers = 0
    for run in (r for group in runs.values() for r in group):
        level = run.defections["satisfaction"]
        satisfied += int((level >= SATISFIED_THRESHOLD).sum())
        leavers += len(level)
    return (
        "Satisfaction at the moment of leaving, the shaded band at or above "
        f"{SATISFIED_THRESHOLD}: {satisfied / max(leavers, 1):.0%} of the "
        f"{leavers:,} defectors of these runs left satisfied, the stylized fact behind "
        "'satisfaction is not loyalty'."
    )


def _promotion_caption(scenario: Scenario, results: Any) -> str:
    profit = {v["name"]: v["metrics"]["profit"]["mean"] for v in results.summary()["variants"]}
    parts = [f"{name} {value - profit['base']:+,.0f}" for name, value in profit.items()]
    parts = parts[1:]  # the base first: its own difference is nought
    margin, _ = _break_even_rise(scenario, 0.0)
    return (
        f"Cumulative profit of each plan at a {margin:.0%} gross margin. Profit over the "
        f"horizon against the base, mean of the runs: {'; '.join(parts)}."
    )


def run_charts(workers: int | None) -> dict[str, str]:
    """The run charts of the café and the grocery store."""
    made = {}
    cafe = load_scenario(ROOT / "scenarios" / "cafe.toml")
    runs = _run(cafe, REPS, workers).runs
    CAPTIONS["cafe-customers"] = _customers_caption(runs)
    CAPTIONS["cafe-defector-satisfaction"] = _defectors_caption(runs)
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
    results = _run(grocery, REPS, workers)
    _save(plotting.cumulative_profit_chart(results.runs), "grocery-cumulative-profit")
    CAPTIONS["grocery-cumulative-profit"] = _promotion_caption(grocery, results)
    margin, _ = _break_even_rise(grocery, 0.0)
    made["grocery-cumulative-profit"] = f"Cumulative profit at a {margin:.0%} margin (grocery)"
    return made


def frontier(workers: int | None) -> dict[str, str]:
    """Cash under 5% and 10% off, and the frontier of a flat discount from 0% to 20%, in
    the grocery store."""
    path = ROOT / "scenarios" / "grocery.toml"
    offers = [(f"{r:.1%} off", {"discount.kind": "flat", "discount.rate": r}) for r in (0.05, 0.10)]
    scenario = _with_variants(path, offers)
    runs = _run(scenario, REPS, workers).runs
    _save(plotting.cash_chart(runs, scenario), "grocery-cash")
    margin, _ = _break_even_rise(scenario, 0.0)
    ruined = {name: sum(r.ruin_day is not None for r in group) for name, group in runs.items()}
    needs = "; ".join(
        f"{rate:.0%} off needs {_break_even_rise(scenario, rate)[1]:.0%} more sales"
        for rate in (0.05, 0.10)
    )
    hit = "; ".join(f"{name} {count} of {REPS}" for name, count in ruined.items())
    CAPTIONS["grocery-cash"] = (
        f"Cash of the grocery store with no discount, 5% off and 10% off everything, at a "
        f"{margin:.0%} gross margin: {needs} just to stand still. Runs that hit the floor "
        f"(each marked by a cross): {hit}."
    )
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
        "grocery-cash": f"Cash under 5% and 10% off at a {margin:.0%} margin (grocery)",
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


# What each chart shows. Captions that state a result are written from the runs they
# show (CAPTIONS, filled in as the charts are drawn), never typed in: a later model must
# not leave the gallery claiming what its runs no longer do.
DESCRIPTIONS: dict[str, str] = {
    "cafe-cash": "Cash at the end of each day, with the floor below which the business is "
    "ruined; a cross would mark each ruined run. The saw-tooth is the rent, paid at the "
    "start of each month.",
    "cafe-profit-vs-base": "Each plan's profit minus the base's, run by run on the same "
    "customers (common random numbers). Thick bar: paired 95% interval; faint: the interval "
    "the same runs would give without pairing.",
    "cafe-churn-causes": "Why customers left, as shares of all defections: staff "
    "indifference and poor service are counted apart.",
    "grocery-frontier": "Profit (left axis) and probability of ruin (right axis) as a flat "
    "discount deepens. The vertical line is the cliff, the first value at which a run was "
    "ruined; the star is the most profitable value short of it.",
    "gym-heatmap": "A two-parameter sweep: profit of the gym over two years for each "
    "discount on dues and each price of the chain club across town (blue: profit, red: "
    "loss).",
}
CAPTIONS: dict[str, str] = {}


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
        "<!-- docs-test: skip (minutes long; the images it draws are its own check) -->",
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
            CAPTIONS.get(name) or DESCRIPTIONS[name],
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
