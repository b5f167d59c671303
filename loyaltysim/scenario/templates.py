"""Starting-point scenarios for ``loyaltysim init``: the shipped ``scenarios/*.toml``.

A template's name is its file's stem (``cafe`` for ``cafe.toml``). Installed wheels carry
the files in ``loyaltysim/templates/`` (``force-include`` in pyproject.toml); a checkout or
an editable install reads the repository's ``scenarios/`` directly, so the templates and
the shipped examples are one set of files and cannot drift apart.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["init_text", "template_names", "template_text"]

SUFFIX = ".toml"


def _sources() -> list[Traversable]:
    """Where templates live: the package's own copy, else the checkout's ``scenarios/``."""
    packaged = resources.files("loyaltysim") / "templates"
    if packaged.is_dir():
        # Installed: two levels up is site-packages, whose "scenarios" is not ours.
        return [packaged]
    checkout = Path(__file__).resolve().parents[2] / "scenarios"
    return [checkout] if checkout.is_dir() else []


def template_names() -> list[str]:
    """Names of the available templates, sorted.

    Returns
    -------
    list of str
        File stems of ``*.toml`` files in the template directories.
    """
    names = {
        entry.name.removesuffix(SUFFIX)
        for source in _sources()
        for entry in source.iterdir()
        if entry.name.endswith(SUFFIX) and entry.is_file()
    }
    return sorted(names)


def template_text(name: str) -> str:
    """The text of template ``name``.

    Raises
    ------
    LookupError
        If there is no such template; the message lists the available ones.
    """
    # Checked against the listing, not joined blindly, so "../x" cannot reach other files.
    if name in template_names():
        for source in _sources():
            entry = source / f"{name}{SUFFIX}"
            if entry.is_file():
                return entry.read_text(encoding="utf-8")
    available = ", ".join(template_names()) or "none installed"
    raise LookupError(f"unknown template {name!r}; available: {available}")


def init_text(name: str, path: str) -> str:
    """Template ``name`` as ``init`` writes it to ``path``: the commands in its comments
    name the user's file (``loyaltysim validate my.toml``), not the shipped one."""
    return template_text(name).replace(f"scenarios/{name}{SUFFIX}", path)
