"""`loyaltysim report` of every folder kind: compare, sweep, frontier and calibration
folders get a report of their own, from the same templates (issue #16 item 7).

Each folder is made once for the module by the real command (a calibration's, which takes
minutes to fit, is written from a calibration.json of the documented shape) and reported
once as HTML; the tests read what the reports say.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import matplotlib
import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

from loyaltysim.cli import main
from loyaltysim.output.report_kinds import folder_kind

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
CAFE = str(ROOT / "scenarios" / "cafe.toml")
SHORT = ["--reps", "2", "--days", "30", "--workers", "1", "--quiet"]
WARNING = "Only 2 runs per point: treat the ruin risks as rough."


def _invoke(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def _report(folder: Path) -> str:
    _invoke(["report", str(folder)])
    return (folder / "report.html").read_text("utf-8")


def _text(html: str) -> str:
    html = re.sub(r"<img[^>]*>", "[chart]", html)
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&amp;", "&")


def _first_section(html: str) -> str:
    return html.split('<h2 id="verdict">', 1)[1].split("<h2", 1)[0]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kinds")


@pytest.fixture(scope="module")
def sweep_html(folders: Path) -> str:
    out = folders / "sweep"
    _invoke(
        ["sweep", CAFE, "--set", "discount.kind=flat", "--set", "scenario.currency=EUR",
         "--param", "discount.rate=0:0.1:0.1", *SHORT, "--output", str(out)]
    )  # fmt: skip
    spec = json.loads((out / "sweep.json").read_text("utf-8"))
    spec["sample_warnings"] = [WARNING]  # as the api branch's sweeps write them
    (out / "sweep.json").write_text(json.dumps(spec), "utf-8")
    assert folder_kind(out) == "sweep"
    return _report(out)


def test_a_sweep_folder_has_its_own_report(sweep_html: str) -> None:
    text = _text(sweep_html)
    first = _text(_first_section(sweep_html))
    assert "how do profit and the risk of running out of cash change with discount.rate" in first
    assert "discount.rate" in first and "2 of 2 points were simulated, 2 runs each" in first
    assert "Most profitable point: discount.rate = 0" in first and " EUR" in first
    assert "No point is shown safe" in first  # 2 runs cannot show a 5% risk
    assert f"Caution: {WARNING}" in first
    assert first.count("[chart]") == 1  # the sweep's chart
    assert "The points, most profitable first" in text and "profit (EUR)" in text
    assert "How to reproduce" in text and "root seed" in text


@pytest.fixture(scope="module")
def frontier_dir(folders: Path) -> Path:
    out = folders / "frontier"
    _invoke(
        ["frontier", CAFE, "--param", "discount.rate", "--range", "0:0.1:0.1",
         "--set", "discount.kind=flat", *SHORT, "--output", str(out)]
    )  # fmt: skip
    return out


def test_a_frontier_folder_carries_a_manifest_like_a_run(frontier_dir: Path) -> None:
    manifest = json.loads((frontier_dir / "manifest.json").read_text("utf-8"))
    assert manifest["kind"] == "frontier" and manifest["status"] == "complete"
    assert manifest["scenario_file"] == CAFE and manifest["seed"] is not None
    assert "discount.kind=flat" in manifest["overrides"]
    assert (frontier_dir / "scenario.resolved.json").is_file()
    assert folder_kind(frontier_dir) == "frontier"


def test_a_frontier_folder_has_its_own_report(frontier_dir: Path) -> None:
    html = _report(frontier_dir)
    first = _text(_first_section(html))
    assert "how far can discount.rate go before the risk of running out of cash" in first
    assert "Largest safe value" in first and first.count("[chart]") == 1
    text = _text(html)
    assert "Every value" in text and "undecided" in text


@pytest.fixture(scope="module")
def compare_html(folders: Path) -> str:
    out = folders / "compare"
    _invoke(["compare", CAFE, *SHORT, "--output", str(out)])
    assert folder_kind(out) == "compare"
    return _report(out)


def test_a_compare_folder_reports_its_comparison(compare_html: str) -> None:
    text = _text(compare_html)
    assert "The answer" in text and "Recommendation:" in text
    assert "The comparison, metric by metric" in text
    assert "10% off everything against base" in text
    assert "paired 95% interval" in text


def _png() -> bytes:
    fig = Figure(figsize=(4, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_a_calibration_folder_has_its_own_report(tmp_path: Path) -> None:
    folder = tmp_path / "calibration"
    (folder / "charts").mkdir(parents=True)
    holdout = {
        "end": "1998-06-30",
        "weeks": 39.0,
        "predicted_repeat": 1653.4,
        "actual_repeat": 1882.0,
        "error": -0.1215,
        "correlation": 0.626,
        "mae": 0.785,
    }
    data = {
        "log": "sales.csv", "customers": 2357, "transactions": 6919,
        "calibration": {"start": "1997-01-01", "end": "1997-09-30"}, "model": "bg_nbd",
        "params": {"r": 0.243}, "holdout": holdout,
        "models": {"bg_nbd": {"params": {"r": 0.243, "alpha": 4.41}, "holdout": holdout}},
        "spend": {"mean": 35.17}, "agent": {"visit_scale": 1.25, "hazard_scale": 2.18,
                                            "holdout": {**holdout, "error": -0.094}},
        "scenario": "sales.toml", "notes": [], "sample_warnings": [WARNING],
    }  # fmt: skip
    (folder / "calibration.json").write_text(json.dumps(data), "utf-8")
    png = _png()
    (folder / "charts" / "tracking.png").write_bytes(png)
    assert folder_kind(folder) == "calibration"
    html = _report(folder)
    first = _text(_first_section(html))
    assert "2,357 customers and 6,919 purchases" in first
    assert "predicted 1,653 repeat purchases where 1,882 happened (error −12%)" in first
    assert f"Caution: {WARNING}" in first
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert [base64.b64decode(i) for i in images] == [png]
    text = _text(html)
    assert "BG/NBD" in text and "agent model (the scenario, simulated)" in text
