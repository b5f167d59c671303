"""What the functions of :mod:`loyaltysim.api` share: progress callbacks, and turning
a scenario argument (a path, or a scenario from ``load_scenario``) into the scenario to run
and the file and overrides to rebuild it from, as the command line does."""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from loyaltysim.experiment.sweep import ScenarioSource
    from loyaltysim.scenario import Scenario

Progress = Callable[[int, int], None]
ProgressArg = Progress | bool | None
Overrides = Mapping[str, object] | Sequence[str] | None

# ----------------------------------------------------------------------------- progress


def progress_callback(progress: ProgressArg, label: str) -> Progress | None:
    """``progress`` as a ``(done, total)`` callable: ``True`` gives a tqdm bar where tqdm
    is installed, else a line on stderr at each tenth of the way; ``None``/``False``
    nothing; a callable is used as it is."""
    if progress is None or progress is False:
        return None
    if callable(progress):
        return progress
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return text_progress(label)
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def text_progress(label: str) -> Progress:
    shown = -1

    def update(done: int, total: int) -> None:
        nonlocal shown
        tenth = 10 * done // total if total else 10
        if tenth > shown:
            shown = tenth
            print(f"{label}: {done} of {total}", file=sys.stderr, flush=True)

    return update


# ----------------------------------------------------------------------------- scenarios

# Where a scenario from load_scenario came from (text, file name, overrides as text), so
# that sweeps can rebuild it at every point; forgotten with the scenario.
SOURCES: dict[int, tuple[str, str, tuple[str, ...]]] = {}


def toml_literal(value: object) -> str:
    """A Python value as the TOML literal ``--set`` would read back as that value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            repr(value)
            if math.isfinite(value)
            else ("nan" if value != value else ("inf" if value > 0 else "-inf"))
        )
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k))} = {toml_literal(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    raise TypeError(f"cannot use {value!r} as a scenario value")


def override_texts(overrides: Overrides) -> list[str]:
    if overrides is None:
        return []
    if isinstance(overrides, str):
        return [overrides]
    if isinstance(overrides, Mapping):
        return [f"{key}={toml_literal(value)}" for key, value in overrides.items()]
    return [str(o) for o in overrides]


def run_overrides(replications: int | None, days: int | None, seed: int | None) -> list[str]:
    for name, value in (("replications", replications), ("days", days)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1")
    pairs = (
        ("scenario.replications", replications),
        ("scenario.horizon_days", days),
        ("scenario.seed", seed),
    )
    return [f"{key}={value}" for key, value in pairs if value is not None]


def load_and_remember(path: str | os.PathLike[str], texts: Sequence[str]) -> Scenario:
    """Load a scenario file with ``--set`` texts, remembering where it came from."""
    from loyaltysim.scenario import load_scenario

    scenario = load_scenario(path, list(texts))  # every problem, located in the file
    key = id(scenario)
    SOURCES[key] = (Path(path).read_text("utf-8"), os.fspath(path), tuple(texts))
    weakref.finalize(scenario, SOURCES.pop, key, None)
    return scenario


def source_of(
    scenario: Any,
    overrides: Overrides,
    extra: Sequence[str],
    what: str,
    variant: str = "base",
) -> tuple[ScenarioSource, str | None]:
    """The scenario as a file and overrides to rebuild it from, and its path if any."""
    from loyaltysim.experiment.sweep import ScenarioSource
    from loyaltysim.scenario import Scenario

    texts = [*override_texts(overrides), *extra]
    if isinstance(scenario, Scenario):
        known = SOURCES.get(id(scenario))
        if known is None:
            raise TypeError(
                f"{what} rebuilds the scenario from its file at every point: pass the file's "
                "path, or a scenario from loyaltysim.load_scenario"
            )
        text, name, given = known
        return ScenarioSource(text, name, (*given, *texts), variant), None
    path = os.fspath(scenario)
    return ScenarioSource.from_file(path, texts, variant), path


@dataclass(frozen=True)
class Loaded:
    """A scenario to run, and the file and overrides it came from (for the manifest)."""

    scenario: Scenario
    path: str | None
    overrides: list[str]


def resolve(
    scenario: Any,
    overrides: Overrides = None,
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
) -> Loaded:
    """The scenario to run, with the run options applied as the command line applies
    them (as overrides, then validated), and the file and overrides it came from."""
    from loyaltysim.scenario import Scenario

    extra = run_overrides(replications, days, seed)
    if isinstance(scenario, Scenario):
        known = SOURCES.get(id(scenario))
        if known is None:
            if overrides:
                raise TypeError(
                    "overrides need the scenario's file: pass its path, or a scenario from "
                    "loyaltysim.load_scenario"
                )
            return Loaded(with_meta(scenario, replications, days, seed), None, [])
        if not extra and not overrides:
            return Loaded(scenario, known[1], list(known[2]))
    src, path = source_of(scenario, overrides, extra, "this call")
    if path is not None:
        return Loaded(load_and_remember(path, list(src.overrides)), path, list(src.overrides))
    return Loaded(src.load(), src.filename, list(src.overrides))


def with_meta(
    scenario: Scenario, replications: int | None, days: int | None, seed: int | None
) -> Scenario:
    """A scenario built in code, with new run settings (no file to re-read)."""
    update: dict[str, Any] = {}
    if replications is not None:
        update["replications"] = replications
    if days is not None:
        update["horizon_days"] = days
    if seed is not None:
        update["seed"] = seed
    meta = scenario.scenario.model_copy(update=update)
    return scenario.model_copy(update={"scenario": meta})


FROM_PYTHON = "loyaltysim Python API"


@contextlib.contextmanager
def design_folder(output: str | os.PathLike[str] | None) -> Iterator[tuple[Path, bool]]:
    """The folder a sweep streams into: ``output``, or a temporary one removed after."""
    if output is not None:
        yield Path(output), True
        return
    with tempfile.TemporaryDirectory(prefix="loyaltysim-") as tmp:
        yield Path(tmp) / "design", False


def frame(columns: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns)
