"""`loyaltysim report`: a self-contained HTML report and a PDF from a results folder."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from click.testing import CliRunner

from loyaltysim.cli import main
from loyaltysim.output.folder import read_timeseries
from loyaltysim.output.report_content import parameters, variant_stories
from loyaltysim.output.report_data import ReportError, RunData, load_run
from loyaltysim.workflows.report import default_output, write_report

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short real run of the café: 3 replications x 60 days, every variant."""
    out = tmp_path_factory.mktemp("report") / "cafe"
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(ROOT / "scenarios" / "cafe.toml"),
            "--days",
            "60",
            "--reps",
            "3",
            "--workers",
            "1",
            "--quiet",
            "--charts",
            "both",  # PNG and SVG: the files of both formats are checked below
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def html_report(run_dir: Path) -> str:
    result = CliRunner().invoke(main, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    path = run_dir / "report.html"
    assert path.is_file()
    return path.read_text("utf-8")


class _Refs(HTMLParser):
    """Every attribute value that can load something, and every tag name."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action", "background"):
                self.refs.append((tag, name, value or ""))


def test_html_report_is_self_contained(html_report: str) -> None:
    parser = _Refs()
    parser.feed(html_report)
    for tag, name, value in parser.refs:
        ok = value.startswith("data:") or (name == "href" and value.startswith("#"))
        assert ok, f"<{tag} {name}={value[:80]!r}> points outside the file"
    assert not parser.tags & {"link", "script", "iframe", "object", "embed", "base"}
    lowered = html_report.lower()
    assert "<link" not in lowered and "@import" not in lowered
    for match in re.finditer(r"url\(\s*['\"]?([^'\")]*)", lowered):
        assert match.group(1).startswith("data:"), match.group(0)
    assert not re.search(r"https?://", html_report)
    assert "file:" not in lowered


def test_html_report_content(html_report: str, run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text("utf-8"))
    for text in (
        "Corner café",
        "Summary",
        "10% off everything",
        "Loyalty card: 10th coffee free",
        "Why customers left",
        "Does the discount pay for itself?",
        "business.fixed_costs_per_month",
        "list price of an average ticket",  # a schema description
        manifest["scenario_sha256"],
        "2026",  # the seed
        "loyaltysim run",
        "Profit over 60 days",
        "paired 95% interval",
    ):
        assert text in html_report, text
    assert 'class="status"' not in html_report  # a complete run has no status warning


def test_embedded_charts_are_readable_pngs(html_report: str) -> None:
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html_report)
    assert len(images) >= 6  # customers, cash, profit, forest, causes, satisfaction
    for data in images:
        image = matplotlib.image.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert image.ndim == 3 and image.shape[0] > 200 and image.std() > 0


def test_chart_files_are_non_empty_and_readable(run_dir: Path) -> None:
    files = sorted((run_dir / "charts").iterdir())
    assert {p.suffix for p in files} == {".png", ".svg"}
    assert "profit_vs_base.png" in {p.name for p in files}
    for path in files:
        assert path.stat().st_size > 1000
        if path.suffix == ".png":
            image = matplotlib.image.imread(path)
            assert image.ndim == 3 and image.std() > 0
        else:
            root = ET.parse(path).getroot()
            assert root.tag.endswith("svg")


def test_pdf_report(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "client.pdf"
    result = CliRunner().invoke(main, ["report", str(run_dir), "--output", str(out)])
    assert result.exit_code == 0, result.output  # the format follows the suffix
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 4
    assert default_output(run_dir, "pdf") == run_dir / "report.pdf"


def test_replications_rebuilt_from_the_tables(run_dir: Path) -> None:
    data = load_run(run_dir)
    assert list(data.runs) == [
        "base",
        "10% off everything",
        "Loyalty card: 10th coffee free",
        "Call the unhappy",
    ]
    ts = read_timeseries(run_dir)
    first = data.runs["10% off everything"][1]
    mask = (ts["variant"] == "10% off everything") & (ts["replication"] == 1)
    assert np.array_equal(first.daily["cash"], ts["cash"][mask])
    assert first.horizon_days == 60 and all(len(rs) == 3 for rs in data.runs.values())


def test_every_parameter_is_listed_with_its_description(run_dir: Path) -> None:
    data = load_run(run_dir, tables=False)
    params = {p.path: p for p in parameters(data)}
    resolved = data.resolved
    assert params["business.price"].value == "4.5"
    assert params["business.price"].unit == "money"
    assert params["business.price"].description == "list price of an average ticket"
    assert params["behaviour.other_hazard"].unit == "per year"
    assert params["customers.segments.2.name"].value == "deal seekers"
    for section in ("business", "competitor", "behaviour", "followup", "guard"):
        for key in resolved[section]:
            assert f"{section}.{key}" in params


def _summary(verdict: str, ruined: int, lead: float | None) -> dict:
    metric = {"mean": 1000.0, "ci95": [900.0, 1100.0]}
    base = {
        "name": "base",
        "replications": 30,
        "metrics": {m: metric for m in ("profit", "churn_rate_annual", "customers_end")},
        "ruin": {"probability": 0.0, "ci95": [0.0, 0.11], "ruined": 0, "verdict": "safe",
                 "max_ruin_probability": 0.05, "warned": 0},
        "break_even": {"gross_margin": 0.25, "effective_discount": 0.0},
    }  # fmt: skip
    variant = {
        "name": "20% off",
        "replications": 30,
        "metrics": base["metrics"],
        "ruin": {"probability": ruined / 30, "ci95": [0.24, 0.57], "ruined": ruined,
                 "median_day": 210.0, "median_lead_days": lead, "warned": ruined,
                 "warned_before_ruin": ruined if lead else 0, "verdict": verdict,
                 "max_ruin_probability": 0.05},
        "break_even": {"gross_margin": 0.25, "effective_discount": 0.2, "required_lift": 4.0,
                       "realised_lift": 0.3, "realised_lift_ci95": [0.2, 0.4],
                       "structural_loss": False},
        "vs_base": {"profit": {"mean": -500.0, "ci95": [-700.0, -300.0]}},
    }  # fmt: skip
    return {"scenario": "x", "replications": 30, "horizon_days": 730, "base": "base",
            "variants": [base, variant]}  # fmt: skip


def test_verdicts_in_words() -> None:
    data = RunData(Path("."), {"status": "complete"}, {}, _summary("unsafe", 12, 95.0), None)
    base, variant = variant_stories(data)
    assert "Safe: no run was ruined; ruin risk below 11% (30 runs)." in base.sentences
    assert (
        "Unsafe: ruined in 12 of 30 runs, median day 210, first warning 95 days earlier"
        in variant.ruin
    )
    assert variant.comparison == "worse than the base"
    assert "not enough" in variant.break_even and "400.0%" in variant.break_even
    data.summary = _summary("unsafe", 3, None)
    assert "with no warning before it" in variant_stories(data)[1].ruin


def test_an_undecided_plan_reads_as_the_guard_says_it() -> None:
    # One vocabulary (#12): the report's label and bound are the run table's and check's.
    summary = _summary("undecided", 0, None)
    summary["variants"][1]["ruin"].update(
        {"ci95": [0.0, 0.114], "risk_bounds": [0.0, 0.095], "replications_needed": 59}
    )
    data = RunData(Path("."), {"status": "complete"}, {}, summary, None)
    variant = variant_stories(data)[1]
    assert variant.headline.startswith("Ruin risk: undecided")
    assert variant.ruin.startswith("Undecided: no run was ruined")
    assert "below 10%" in variant.ruin and "about 59 runs would settle it" in variant.ruin


def test_incomplete_runs_are_stated_prominently(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text("utf-8"))
    manifest["status"] = "interrupted"
    (copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    text = write_report(copy).read_text("utf-8")
    assert 'class="status"' in text and "INTERRUPTED" in text

    manifest.update(status="failed", error="MemoryError()")
    (copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    (copy / "summary.json").unlink()
    text = write_report(copy).read_text("utf-8")
    assert "FAILED" in text and "MemoryError" in text


def test_missing_or_broken_folders(run_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "not a directory" in missing.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(main, ["report", str(empty)])
    assert result.exit_code == 2 and "not a results folder" in result.output

    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "summary.json").write_text("{ not json", "utf-8")
    result = runner.invoke(main, ["report", str(broken)])
    assert result.exit_code == 4 and "summary.json" in result.output
    (broken / "summary.json").unlink()
    result = runner.invoke(main, ["report", str(broken)])  # "complete" without a summary
    assert result.exit_code == 4
    (broken / "manifest.json").write_text("[]", "utf-8")
    with pytest.raises(ReportError) as info:
        load_run(broken)
    assert info.value.exit_code == 4
    bad_format = runner.invoke(main, ["report", str(run_dir), "--format", "docx"])
    assert bad_format.exit_code == 2
