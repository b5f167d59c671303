"""Imports on first use: a package's names (PEP 562), for ``loyaltysim`` and
``loyaltysim.scenario``, and modules (:func:`lazy_module`):
``import loyaltysim``, ``loyaltysim --help`` and ``loyaltysim validate`` must not pay for
what they never use. Standard library only."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
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


def lazy_module(name: str) -> ModuleType:
    """The module ``name``, executed at its first attribute access rather than now (the
    standard library's :class:`importlib.util.LazyLoader`); the same object as
    ``sys.modules[name]``, so once loaded it is the plain module. For modules on the path
    of checking a scenario that use numpy only when a simulation runs: ``validate`` then
    never loads it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return importlib.import_module(name)  # raises the usual ModuleNotFoundError
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
