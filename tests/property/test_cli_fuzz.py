"""Fuzzing the command line: mutated scenarios through `validate`, valid ones through `run`.

Issue #9, "Done when": >= 1,000 mutated scenarios through ``loyaltysim validate`` and >= 200
of the valid ones through a tiny ``loyaltysim run``, with 0 tracebacks, 0 exit codes
outside the contract and memory bounded. In process (click's CliRunner), so it is quick;
derandomized (the same cases on every run, as CI needs). The default suite runs a
quarter of issue #9's counts (the same strategies and checks, the first cases of the same
derandomized sequence); issue #9's counts and a larger run are marked slow.

Mutations start from the shipped scenarios and change them the way users do: a key set
to a plausible or hostile value, a key dropped, a typo, a variant added, a character
inserted or deleted in the text. The tiny run replaces the horizon and the replications
(``--days``, ``--reps``) and bounds the population small (``scenario.max_customers``), so
no case can take more than a few megabytes; a case that would pass the bound must stop
with the bound's own message (exit 4), never with any other failure.
"""

from __future__ import annotations

import copy
import os
import resource
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyaltysim.cli import main
from loyaltysim.scenario import ScenarioError, load_scenario
from tests.property.test_loader_fuzz import PATHS, WORDS, toml_document

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {
    p.stem: tomllib.loads(p.read_text("utf-8")) for p in sorted(ROOT.glob("scenarios/*.toml"))
}

VALIDATE_CASES = 1000  # issue #9's counts: the slow tests
RUN_CASES = 200
QUICK_VALIDATE_CASES = VALIDATE_CASES // 4  # the default suite's
QUICK_RUN_CASES = RUN_CASES // 4
# Runs are capped this small, whatever the file says: memory stays bounded.
TINY_RUN = ("--days", "3", "--reps", "1", "--workers", "1", "--quiet", "--no-charts")
BOUND = "scenario.max_customers=3000"

CONTRACT_EXIT_CODES = {0, 1, 2, 3, 4, 130, 143}


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        derandomize=True,  # the same cases on every run, in CI and elsewhere
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


plausible = st.one_of(
    st.floats(0, 1),
    st.integers(0, 60),
    st.floats(0, 50),
    st.sampled_from(WORDS),
    st.booleans(),
)
hostile = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.sampled_from(["rate", "kind", "x"]), st.integers(0, 3), max_size=2),
)


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path in nested TOML data, creating tables; lists take indexes."""
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            return
    if isinstance(node, dict):
        node[parts[-1]] = value
    elif isinstance(node, list) and parts[-1].isdigit() and int(parts[-1]) < len(node):
        node[int(parts[-1])] = value


def _keys(data: Any, prefix: str = "") -> list[str]:
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append(prefix + k)
            out += _keys(v, prefix + k + ".")
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _keys(v, f"{prefix}{i}.")
    return out


def _drop(data: dict[str, Any], path: str) -> None:
    *head, last = path.split(".")
    node: Any = data
    for part in head:
        node = node[int(part)] if isinstance(node, list) else node.get(part)
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(last, None)


@st.composite
def mutated(draw: st.DrawFn, hostile_share: float = 0.3) -> str:
    """A shipped scenario with 1 to 4 mutations, as TOML text."""
    data = copy.deepcopy(SHIPPED[draw(st.sampled_from(sorted(SHIPPED)))])
    data.get("scenario", {}).pop("seed", None)
    data.setdefault("scenario", {})["seed"] = 1
    text: str | None = None
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["set", "set", "set", "drop", "typo", "variant", "text"]))
        if op == "set":
            value = draw(hostile if draw(st.floats(0, 1)) < hostile_share else plausible)
            _set(data, draw(st.sampled_from([*PATHS, *_keys(data)])), value)
        elif op == "drop" and _keys(data):
            _drop(data, draw(st.sampled_from(_keys(data))))
        elif op == "typo":
            section = draw(st.sampled_from(["business", "customers", "discount", "behaviour"]))
            _set(data, f"{section}.{draw(st.sampled_from(['prise', 'rat', 'initail']))}", 1)
        elif op == "variant":
            key = draw(st.sampled_from(PATHS))
            value = draw(plausible)
            variant = {"name": draw(st.sampled_from(["v1", "v2", "base", ""])), "set": {key: value}}
            if not isinstance(data.get("variants"), list):
                data["variants"] = []
            data["variants"].append(variant)
        elif op == "text":
            text = text if text is not None else toml_document(data)
            at = draw(st.integers(0, len(text)))
            end = draw(st.integers(at, min(len(text), at + 4)))
            text = (
                text[:at]
                + draw(st.sampled_from(["", "[", "]", "=", '"', "\n", "0", "."]))
                + text[end:]
            )
    return text if text is not None else toml_document(data)


def _numbers(data: Any, prefix: str = "") -> list[tuple[str, float]]:
    """Dotted paths and values of the numeric leaves (not the seed)."""
    out: list[tuple[str, float]] = []
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for k, v in items:
        path = f"{prefix}{k}"
        if isinstance(v, dict | list):
            out += _numbers(v, path + ".")
        elif isinstance(v, int | float) and not isinstance(v, bool) and path != "scenario.seed":
            out.append((path, float(v)))
    return out


@st.composite
def perturbed(draw: st.DrawFn) -> str:
    """A shipped scenario with 1 to 4 gentle changes (most stay valid): a number scaled by
    0.5-1.5 (kept in 0..1 where it was), a key dropped (its default comes back), a
    variant of such a change. Populations are kept tiny for the run."""
    data = copy.deepcopy(SHIPPED[draw(st.sampled_from(sorted(SHIPPED)))])
    data.setdefault("scenario", {})["seed"] = 1
    data["variants"] = data.get("variants", [])[:1]  # each variant is one more simulation
    for _ in range(draw(st.integers(1, 4))):
        numbers = _numbers(data)
        op = draw(st.sampled_from(["scale", "scale", "drop", "variant"]))
        if op in ("scale", "variant") and numbers:
            path, value = draw(st.sampled_from(numbers))
            new: float | int = value * draw(st.floats(0.5, 1.5))
            if 0 <= value <= 1:
                new = min(new, 1.0)
            if float(value).is_integer() and abs(value) > 1:
                new = round(new)
            if op == "scale":
                _set(data, path, new)
            else:
                variants = data.setdefault("variants", [])
                variants.append({"name": f"fuzz {len(variants)}", "set": {path: new}})
        elif op == "drop":
            keys = [k for k in _keys(data) if k.count(".") >= 1 and k != "scenario.name"]
            if keys:
                _drop(data, draw(st.sampled_from(keys)))
    customers = data.setdefault("customers", {})
    customers["initial"] = min(int(customers.get("initial", 1500)), 120)
    return toml_document(data)


def _no_traceback(result: Any) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert "Traceback" not in result.output


def _fuzz_validate(tmp_path: Path, cases: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    path = tmp_path / "fuzz.toml"
    runner = CliRunner()

    @fuzz_settings(cases)
    @given(mutated())
    def case(text: str) -> None:
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(main, ["validate", str(path)])
        _no_traceback(result)
        assert result.exit_code in (0, 3), (result.exit_code, result.output, text)
        counts["validated"] += 1
        counts["valid" if result.exit_code == 0 else "invalid"] += 1

    case()
    return counts


def _fuzz_run(tmp_path: Path, cases: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    path = tmp_path / "fuzz.toml"
    runner = CliRunner()

    @fuzz_settings(cases * 2)
    @given(perturbed())
    def case(text: str) -> None:
        if counts["ran"] >= cases:
            return
        path.write_text(text, encoding="utf-8")
        try:
            load_scenario(path)
        except ScenarioError:
            return  # not one of the valid ones
        out = tmp_path / f"run-{counts['ran']}"
        result = runner.invoke(
            main, ["run", str(path), *TINY_RUN, "--set", BOUND, "--output", str(out)]
        )
        _no_traceback(result)
        code = result.exit_code
        assert code in CONTRACT_EXIT_CODES, (code, result.output, text)
        if code == 4:  # the one runtime failure a valid scenario may meet: the bound
            assert "population bound reached" in result.stderr, (result.output, text)
            counts["stopped at the bound"] += 1
        elif code == 3:  # valid alone, but not under the small bound
            assert "population too large" in result.stderr, (result.output, text)
            counts["over the bound at validation"] += 1
        else:
            assert code == 0, (code, result.output, text)
            counts["completed"] += 1
        counts["ran"] += 1

    case()
    return counts


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _check_validate(tmp_path: Path, cases: int) -> None:
    counts = _fuzz_validate(tmp_path, cases)
    print(f"\nvalidate fuzz: {dict(counts)}")
    assert counts["validated"] >= cases
    assert counts["valid"] and counts["invalid"]  # both kinds reached


def _check_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cases: int) -> None:
    # What this tests is the command's robustness, not durability: fsync (3 ms a call,
    # twenty a run on this kind of disk) would be half the cost. Writes are unchanged.
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    before = _peak_mb()
    counts = _fuzz_run(tmp_path, cases)
    grown = _peak_mb() - before
    print(f"\nrun fuzz: {dict(counts)}; peak memory grew {grown:.0f} MB")
    assert counts["ran"] >= cases
    assert counts["completed"] >= cases // 2
    assert grown < 500, f"peak memory grew {grown:.0f} MB"


def test_fuzz_validate_mutated_scenarios(tmp_path: Path) -> None:
    _check_validate(tmp_path, QUICK_VALIDATE_CASES)


def test_fuzz_run_valid_mutated_scenarios(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _check_run(tmp_path, monkeypatch, QUICK_RUN_CASES)


@pytest.mark.slow
def test_fuzz_validate_1000_mutated_scenarios(tmp_path: Path) -> None:
    _check_validate(tmp_path, VALIDATE_CASES)


@pytest.mark.slow
def test_fuzz_run_200_valid_mutated_scenarios(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check_run(tmp_path, monkeypatch, RUN_CASES)


@pytest.mark.slow
def test_fuzz_larger_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    scale = int(os.environ.get("LOYALTYSIM_FUZZ_SCALE", "10"))
    (tmp_path / "validate").mkdir()
    counts = _fuzz_validate(tmp_path / "validate", VALIDATE_CASES * scale)
    ran = _fuzz_run(tmp_path, RUN_CASES * scale)
    print(f"\nlarger fuzz: validate {dict(counts)}; run {dict(ran)}")
    assert counts["validated"] >= VALIDATE_CASES * scale
    assert ran["ran"] >= RUN_CASES * scale
