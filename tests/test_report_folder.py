"""`loyaltysim report` reads only its own folder, says when the folder is unsound, and
names what its PDF fonts cannot draw."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

from loyaltysim.cli import main
from loyaltysim.output import fonts
from loyaltysim.output.report_content import build_report
from loyaltysim.output.report_data import load_run
from loyaltysim.output.report_html import render_html
from loyaltysim.output.report_pdf import render_pdf, with_font_notice
from loyaltysim.workflows.report import build_charts, write_report

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
UNICODE_NAME = "Ünïcödé 日本語 🎉"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short real run of the café: 2 replications x 30 days, every variant."""
    out = tmp_path_factory.mktemp("folder") / "cafe"
    args = ["run", str(ROOT / "scenarios" / "cafe.toml"), "--days", "30", "--reps", "2"]
    result = CliRunner().invoke(main, [*args, "--workers", "1", "--quiet", "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def copy(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run_dir, target)
    return target


def _png(colour: str) -> bytes:
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot([0, 1], [1, 0], color=colour)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(d) for d in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def _alerts(html: str) -> str:
    return " ".join(re.findall(r'<div class="status" role="alert">(.*?)</div>', html, re.S))


# ----------------------------------------------------------------------- only its own folder


def test_a_chart_linked_from_outside_the_folder_is_refused(copy: Path, tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "private.png"
    secret.parent.mkdir()
    secret.write_bytes(_png("red"))
    (copy / "charts" / "private.png").symlink_to(secret)
    inside = _png("blue")
    (copy / "charts" / "frontier.png").write_bytes(inside)  # a chart another command left
    html = write_report(copy, now=NOW).read_text("utf-8")
    images = _images(html)
    assert secret.read_bytes() not in images
    assert inside in images
    assert "private.png points outside the results folder" in _alerts(html)


def test_a_linked_charts_folder_and_linked_tables_are_refused(copy: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (copy / "charts").rename(elsewhere)
    (elsewhere / "frontier.png").write_bytes(_png("red"))
    (copy / "charts").symlink_to(elsewhere, target_is_directory=True)
    html = write_report(copy, now=NOW).read_text("utf-8")
    assert (elsewhere / "frontier.png").read_bytes() not in _images(html)
    assert "charts/ points outside the results folder" in _alerts(html)

    outside_table = tmp_path / "timeseries.csv"
    (copy / "timeseries.csv").rename(outside_table)
    (copy / "timeseries.csv").symlink_to(outside_table)
    html = write_report(copy, now=NOW).read_text("utf-8")
    assert "timeseries.csv points outside the results folder" in _alerts(html)
    assert not _images(html)


def test_a_linked_summary_is_refused(copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "summary.json"
    (copy / "summary.json").rename(outside)
    (copy / "summary.json").symlink_to(outside)
    result = CliRunner().invoke(main, ["report", str(copy)])
    assert result.exit_code == 4
    assert "points outside the results folder" in result.output


def test_a_folder_reached_through_a_link_is_its_own(copy: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(copy, target_is_directory=True)
    html = write_report(link, now=NOW).read_text("utf-8")
    assert not _alerts(html) and len(_images(html)) >= 6


# ----------------------------------------------------------------------- unsound tables


def test_missing_tables_are_stated_and_no_chart_is_embedded(copy: Path) -> None:
    (copy / "timeseries.csv").unlink()
    html = write_report(copy, now=NOW).read_text("utf-8")
    assert "The table timeseries.csv is missing" in _alerts(html)
    assert not _images(html)  # not the stale charts/*.png of the run either
    assert "Profit over 30 days" in html  # the summary's figures are still reported


def test_corrupt_tables_are_stated_and_no_chart_is_embedded(copy: Path) -> None:
    (copy / "defections.csv").write_bytes(b"variant,replication,day\nbase,x,\x00\xff\n")
    html = write_report(copy, now=NOW).read_text("utf-8")
    assert "The result tables could not be read" in _alerts(html)
    assert not _images(html)


def test_tables_that_contradict_the_summary_are_stated(copy: Path) -> None:
    summary = json.loads((copy / "summary.json").read_text("utf-8"))
    for v in summary["variants"]:
        v["replications"] = 5
    (copy / "summary.json").write_text(json.dumps(summary), "utf-8")
    html = write_report(copy, now=NOW).read_text("utf-8")
    assert "The result tables do not match summary.json" in _alerts(html)
    assert not _images(html)


def test_a_failed_run_embeds_no_chart_it_did_not_draw(copy: Path) -> None:
    manifest = json.loads((copy / "manifest.json").read_text("utf-8"))
    manifest.update(status="failed", error="OSError(28, 'No space left on device')")
    (copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    (copy / "summary.json").unlink()
    (copy / "charts" / "frontier.png").write_bytes(_png("red"))
    html = write_report(copy, now=NOW).read_text("utf-8")
    alerts = _alerts(html)
    assert "FAILED" in alerts and "Charts left out (charts/frontier.png)" in alerts
    assert (copy / "charts" / "frontier.png").read_bytes() not in _images(html)


def test_report_of_a_sweep_folder_is_a_sweep_report(tmp_path: Path) -> None:
    # Issue #16 item 7 changes this on purpose: a sweep folder gets a report of its own
    # (it was refused with exit code 2); tests/test_report_kinds.py reads what it says.
    out = tmp_path / "sweep"
    args = ["sweep", str(ROOT / "scenarios" / "cafe.toml"), "--set", "discount.kind=flat"]
    args += ["--param", "discount.rate=0:0.1:0.1", "--reps", "1", "--days", "10"]
    result = CliRunner().invoke(main, [*args, "--workers", "1", "--quiet", "--output", str(out)])
    assert result.exit_code == 0, result.output
    report = CliRunner().invoke(main, ["report", str(out)])
    assert report.exit_code == 0, report.output
    assert "Parameter sweep" in (out / "report.html").read_text("utf-8")


def test_names_are_escaped_in_the_html(copy: Path) -> None:
    manifest = json.loads((copy / "manifest.json").read_text("utf-8"))
    manifest["scenario"] = '<script>alert("x")</script>'
    (copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    html = write_report(copy, now=NOW).read_text("utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_one_replication_has_no_interval_in_words(tmp_path: Path) -> None:
    out = tmp_path / "one"
    args = ["run", str(ROOT / "scenarios" / "cafe.toml"), "--days", "10", "--reps", "1"]
    args += ["--workers", "1", "--quiet", "--no-charts", "--output", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    html = write_report(out, now=NOW).read_text("utf-8")
    assert "n/a: 1 run" in html and "n/a to n/a" not in html
    assert re.search(r"Profit over 10 days: [^<(]+\(n/a: 1 run\)\.", html)


# ----------------------------------------------------------------------- fonts


def test_dejavu_alone_lacks_cjk_and_emoji() -> None:
    assert fonts.uncovered([UNICODE_NAME], ["DejaVu Sans"]) == ["日", "本", "語", "🎉"]
    assert fonts.uncovered(["Ünïcödé − café"], ["DejaVu Sans"]) == []
    assert fonts.font_families()[0] == "DejaVu Sans"


def _unicode_report(copy: Path) -> tuple[object, object]:
    manifest = json.loads((copy / "manifest.json").read_text("utf-8"))
    manifest["scenario"] = UNICODE_NAME
    (copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    data = load_run(copy)
    return data, build_report(data, build_charts(data), NOW)


@pytest.fixture(scope="module")
def unicode_report(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> object:
    """The report of the run under a name in three scripts, built (charts drawn) once for
    every font check: none of them changes it."""
    target = tmp_path_factory.mktemp("unicode") / "copy"
    shutil.copytree(run_dir, target)
    return _unicode_report(target)[1]


def _render(report: object) -> tuple[bytes, set[str]]:
    """The PDF of ``report`` and the characters it draws as empty boxes (matplotlib warns
    of each)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdf = render_pdf(report)  # type: ignore[arg-type]
    assert pdf.startswith(b"%PDF")
    boxes = set()
    for w in caught:
        match = re.search(r"Glyph (\d+) .*missing from font", str(w.message))
        if match:
            boxes.add(chr(int(match.group(1))))
    return pdf, boxes


def _boxes(report: object) -> set[str]:
    return _render(report)[1]


@pytest.fixture(scope="module")
def machine_pdf(unicode_report: object) -> tuple[bytes, set[str]]:
    """That report's PDF with this machine's fonts, rendered once for the checks below."""
    return _render(unicode_report)


def test_the_pdf_names_every_character_its_fonts_cannot_draw(
    unicode_report: object, machine_pdf: tuple[bytes, set[str]]
) -> None:
    """Whatever fonts this machine has: a glyph the PDF draws as a box is named in the PDF."""
    report = unicode_report
    _, boxes = machine_pdf
    noticed = with_font_notice(report, fonts.font_families())  # type: ignore[arg-type]
    notice = " ".join(noticed.alerts[len(report.alerts) :])  # type: ignore[attr-defined]
    assert all(f"U+{ord(ch):04X}" in notice for ch in boxes), (boxes, notice)
    for ch in "日🎉":
        drawable = not fonts.uncovered([ch])
        assert drawable == (f"U+{ord(ch):04X}" not in notice)


def test_without_fallback_fonts_the_limitation_is_stated(
    unicode_report: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = unicode_report
    monkeypatch.setattr(fonts, "font_families", lambda: ("DejaVu Sans",))
    assert _boxes(report) == set("日本語🎉")  # the notice itself draws no box
    noticed = with_font_notice(report, ["DejaVu Sans"])  # type: ignore[arg-type]
    notice = noticed.alerts[-1]
    assert "U+65E5 cjk unified ideograph-65e5, U+672C" in notice and "empty boxes" in notice
    assert "U+1F389 party popper" in notice
    assert "empty boxes" not in render_html(report)  # type: ignore[arg-type]


@pytest.mark.skipif(
    bool(fonts.uncovered(["日"])), reason="no CJK font installed (e.g. fonts-noto-cjk)"
)
def test_an_installed_cjk_font_is_embedded_in_the_pdf(machine_pdf: tuple[bytes, set[str]]) -> None:
    # The PDF write_report writes is render_pdf's (tests/test_report.py checks the file).
    pdf, _ = machine_pdf
    names = set(re.findall(rb"/BaseFont /[A-Z]{6}\+([\w-]+)", pdf))
    assert any(not n.startswith(b"DejaVu") for n in names), names
