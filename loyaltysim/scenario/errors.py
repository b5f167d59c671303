"""What an invalid scenario reports: :class:`Problem` and :class:`ScenarioError`.

Standard library only: the command line catches :class:`ScenarioError` around every
command, so ``loyaltysim --help`` imports this module and must not pay for pydantic, numpy
and the schema (issue #15). :mod:`loyaltysim.scenario.problems` builds the problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario.

    Parameters
    ----------
    file
        The file as the user named it, ``<string>`` for text, or ``<--set>`` for overrides.
    line
        1-based line where the key stands; for overrides, the override's 1-based position
        among all overrides; 0 when there is no line (e.g. the file cannot be read).
    key_path
        The key in dotted form (``customers.segments.1.share``); empty for whole-file
        problems such as a syntax error.
    message
        What is wrong.
    hint
        How to fix it (a did-you-mean, the valid choices); may be empty.
    """

    file: str
    line: int
    key_path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: " if self.line > 0 else f"{self.file}: "
        if self.key_path:
            text += f"{self.key_path}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class ScenarioError(ValueError):
    """A scenario is invalid; ``problems`` lists everything wrong with it, at once.

    ``str()`` is one ``FILE:LINE: key.path: message (hint)`` line per problem.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    def __reduce__(self) -> tuple[Any, ...]:
        # Default exception pickling passes ``self.args`` (the joined text) back to
        # ``__init__``; process pools and Dask need the problems themselves.
        return (type(self), (self.problems,))
