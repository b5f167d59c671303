"""A package's names imported on first use (PEP 562), for ``loyaltysim`` and
``loyaltysim.scenario``: ``import loyaltysim`` and ``loyaltysim --help`` must not pay for
the simulation, pydantic or numpy. Standard library only."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    namespace: dict[str, Any], modules: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__``: ``modules`` maps each lazy name to the
    module that defines it; ``namespace`` is the package's ``globals()``, where a name,
    once imported, stays as a plain attribute."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *modules])

    return __getattr__, __dir__
