"""Issue #13 item 6: the report says which part of a calibrated run's interval comes from
the drawn fit parameters and which from the simulation (fixed seeds)."""

from __future__ import annotations

from pathlib import Path

from loyaltysim.output.report_doc import Cell
from loyaltysim.output.report_uncertainty import uncertainty_section
from loyaltysim.scenario.money import number
from tests.unit.calibration.test_parameter_uncertainty import scenario_file, summary


def test_the_report_splits_the_interval_the_summary_splits(tmp_path: Path) -> None:
    s = summary(scenario_file(tmp_path, uncertainty=True))
    section = uncertainty_section(s, "EUR")
    assert section is not None
    table = section.blocks[1]
    rows = table.rows  # type: ignore[attr-defined]
    headings = [r for r in rows if isinstance(r, str)]
    assert headings == [v["name"] for v in s["variants"]]
    split = s["parameter_uncertainty"]["variants"]
    shown = {
        (heading, row[0].text): row for heading, row in _grouped(rows) if isinstance(row[0], Cell)
    }
    for variant in headings:
        row = shown[(variant, "purchases")]
        assert row[3].text == f"{split[variant]['purchases']['share']:.0%}"
        lo, hi = split[variant]["purchases"]["ci95_without"]
        assert row[2].text == f"{number(lo)} to {number(hi)}"
        # The parameters widen the interval: without them it is narrower.
        full_lo, full_hi = next(v for v in s["variants"] if v["name"] == variant)["metrics"][
            "purchases"
        ]["ci95"]
        assert hi - lo < full_hi - full_lo
        profit = shown[(variant, "profit")]
        assert "EUR" in profit[1].text and "EUR" in profit[2].text


def test_no_section_when_the_run_draws_no_parameters(tmp_path: Path) -> None:
    s = summary(scenario_file(tmp_path, uncertainty=False))
    assert "parameter_uncertainty" not in s
    assert uncertainty_section(s) is None
    assert uncertainty_section(None) is None


def _grouped(rows: tuple) -> list[tuple[str, tuple]]:
    """Each row with the variant heading above it."""
    heading, out = "", []
    for row in rows:
        if isinstance(row, str):
            heading = row
        else:
            out.append((heading, row))
    return out
