"""The report's first page: the question, one answer per plan, a recommendation, one chart
(issue #16 item 4), and money in the scenario's currency (item 5).

What the page *says* is tested, from summaries whose verdicts are known; one real run's
HTML report (rendered once for the module) shows the page comes first, with its chart.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loyaltysim.cli import main
from loyaltysim.output.report_content import build_report
from loyaltysim.output.report_data import RunData, load_run
from loyaltysim.output.report_doc import Bullets, Figure, Paragraph, all_text
from loyaltysim.output.report_verdict import plan_answers, recommendation

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _plan(name: str, verdict: str, ruined: int, diff: tuple[float, float, float] | None) -> dict:
    bounds = {"safe": [0.0, 0.03], "unsafe": [0.24, 0.57], "undecided": [0.0, 0.11]}[verdict]
    block: dict[str, Any] = {
        "name": name,
        "replications": 120,
        "metrics": {
            "profit": {"mean": 69570.4, "ci95": [60000.0, 79000.0]},
            "churn_rate_annual": {"mean": 0.3, "ci95": [0.28, 0.32]},
            "customers_end": {"mean": 1400.0, "ci95": [1350.0, 1450.0]},
        },
        "ruin": {"probability": ruined / 120, "ci95": bounds, "risk_bounds": bounds,
                 "ruined": ruined, "verdict": verdict, "max_ruin_probability": 0.05,
                 "warned": 0},
        "break_even": {"gross_margin": 0.69, "effective_discount": 0.0},
    }  # fmt: skip
    if diff is not None:
        mean, lo, hi = diff
        block["vs_base"] = {"profit": {"mean": mean, "ci95": [lo, hi]}}
    return block


def _data(*plans: dict, currency: str | None = "EUR", discount: str = "none") -> RunData:
    summary = {"scenario": "Corner café", "replications": 120, "horizon_days": 730,
               "base": "base", "variants": list(plans)}  # fmt: skip
    resolved: dict[str, Any] = {
        "scenario": {"name": "Corner café", "horizon_days": 730},
        "discount": {"kind": discount},
        "followup": {"kind": "none"},
    }
    if currency:
        resolved["scenario"]["currency"] = currency
    return RunData(Path("."), {"status": "complete"}, resolved, summary, None)


SAFE_WINNER = _plan("Loyalty card", "safe", 0, (2150.0, 1200.0, 3100.0))
UNSAFE = _plan("20% off everything", "unsafe", 40, (-21800.0, -25000.0, -18600.0))


def _verdict_text(data: RunData) -> str:
    report = build_report(data, [], NOW)
    page = report.sections[0]
    assert page.anchor == "verdict" and page.title == "The answer"
    parts = []
    for block in page.blocks:
        if isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Bullets):
            parts += [f"{label}: {text}" for label, text in block.items]
    return "\n".join(parts)


def test_a_safe_plan_that_earns_more_is_recommended() -> None:
    data = _data(_plan("base", "safe", 0, None), SAFE_WINNER, UNSAFE)
    text = _verdict_text(data)
    # the question, with the horizon and how it was measured
    assert "Which of 2 plans should Corner café adopt, against doing nothing new" in text
    assert "simulated 120 times over 730 days (2 years)" in text
    # the safe plan: safe, how sure, what it earns against doing nothing, over what horizon
    assert (
        "Loyalty card: Safe: ruined in 0 of 120 simulated runs, so 95% sure its risk of "
        "running out of cash is below 3% (under the 5% limit); it earns 2,150 EUR more than "
        "the base over 730 days (95% sure: between 1,200 EUR and 3,100 EUR more)."
    ) in text
    # the recommendation
    assert "Recommendation: adopt “Loyalty card”. It is safe and earns about 2,150 EUR" in text


def test_an_unsafe_plan_is_said_to_be_unsafe_and_not_to_be_adopted() -> None:
    data = _data(_plan("base", "safe", 0, None), UNSAFE)
    text = _verdict_text(data)
    assert (
        "20% off everything: NOT safe: it ran out of cash in 40 of 120 simulated runs, a "
        "ruin risk of 24% to 57%, above the 5% limit; it costs 21,800 EUR of profit against "
        "the base over 730 days (95% sure: between 18,600 EUR and 25,000 EUR less)."
    ) in text
    assert "Recommendation: keep doing nothing new (the base)" in text
    assert "“20% off everything” puts the business at risk of running out of cash" in text
    assert "adopt “20% off everything”" not in text


def test_a_plan_not_shown_safe_is_not_recommended_outright() -> None:
    maybe = _plan("Points card", "undecided", 0, (900.0, 100.0, 1700.0))
    base = _plan("base", "safe", 0, None)
    text = _verdict_text(_data(base, maybe, currency=None, discount="flat"))
    assert "Points card: Not yet shown safe: no ruin in 120 simulated runs" in text
    assert "“Points card” may earn more" in text and "loyaltysim check" in text
    # It does earn more: what is missing is the proof of safety, and the advice says so.
    assert "No plan shown safe earns reliably more than it." in text
    assert "No plan earns reliably more" not in text
    assert "against the base (the business as the scenario describes it)" in text
    assert "EUR" not in text and "900 more" in text  # no currency: amounts without a unit


def test_an_unsafe_base_is_warned_about_first() -> None:
    answers = plan_answers(_data(_plan("base", "unsafe", 40, None)))
    assert answers[0].verdict == "unsafe"
    advice = recommendation(_data(_plan("base", "unsafe", 40, None)), answers)
    assert advice.startswith("Warning: the business as it stands may run out of cash")


def test_the_summary_table_names_the_currency_and_no_money_is_in_e_notation() -> None:
    data = _data(_plan("base", "safe", 0, None), SAFE_WINNER)
    data.summary["variants"][0]["metrics"]["profit"]["mean"] = -3.95e-11  # float noise
    text = "\n".join(all_text(build_report(data, [], NOW)))
    assert "profit (EUR)" in text and "vs base (EUR)" in text
    assert not re.search(r"\d[eE][+-]\d", text), "a figure in e-notation"
    assert "−0 " not in text and "-0 " not in text


# --------------------------------------------------------------------------- a real run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("verdict") / "cafe"
    result = CliRunner().invoke(
        main,
        [
            "run", str(ROOT / "scenarios" / "cafe.toml"), "--days", "60", "--reps", "3",
            "--workers", "1", "--quiet", "--output", str(out), "--set", "scenario.currency=€",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def html(run_dir: Path) -> str:
    result = CliRunner().invoke(main, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    return (run_dir / "report.html").read_text("utf-8")


def test_the_report_opens_with_the_answer_and_its_chart(html: str) -> None:
    headings = re.findall(r"<h2 id=\"([^\"]+)\">", html)
    assert headings[0] == "verdict" and headings[-1] == "appendix"
    first = html.split('<h2 id="verdict">', 1)[1].split("<h2", 1)[0]
    assert first.count("<img") == 1 and 'id="chart-profit_vs_base"' in first
    assert "Recommendation:" in first
    # the chart is on the first page, not again among the evidence
    assert html.count('id="chart-profit_vs_base"') == 1


def test_assumptions_in_words_and_every_key_in_the_appendix(html: str) -> None:
    body, appendix = html.split('<h2 id="appendix">', 1)
    assumptions = body.split('<h2 id="assumptions">', 1)[1]
    # plain words from the schema, beside each key (no dotted keys, no shorthand units)
    assert "Rent, wages and other costs paid every month whatever the sales" in assumptions
    assert "€17,000 a month" in assumptions and "€4.50" in assumptions
    assert "Satisfaction above its level before the failure" in assumptions
    for shorthand in ("S above pre-failure", "utility of habit L", "money/month"):
        assert shorthand not in html, shorthand
    assert "behaviour.recovery_bonus" not in assumptions.split("What each plan changes")[0]
    assert "behaviour.recovery_bonus" in appendix and "business.fixed_costs_per_month" in appendix
    assert "currency units" not in html


def test_sample_warnings_of_the_folder_are_shown(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    summary = json.loads((copy / "summary.json").read_text("utf-8"))
    summary["sample_warnings"] = ["Only 3 runs per plan: the intervals are wide."]
    (copy / "summary.json").write_text(json.dumps(summary), "utf-8")
    report = build_report(load_run(copy, tables=False), [], NOW)
    page = report.sections[0]
    notes = [b.text for b in page.blocks if isinstance(b, Paragraph)]
    assert "Caution: Only 3 runs per plan: the intervals are wide." in notes
    assert not any(isinstance(b, Figure) for b in page.blocks)  # no charts given
