"""Fonts for the PDF report: DejaVu Sans, then whatever covers the rest of what users type.

Scenario and plan names are typed by users in any script: "Ünïcödé 日本語 🎉". DejaVu Sans
(shipped with matplotlib) covers Latin, Greek and Cyrillic but no CJK and few emoji.
matplotlib (3.6+) draws each character with the first font of ``font.family`` that has
it, in the Agg and PDF backends alike, so the report's font family is a fallback list:
DejaVu Sans first, then every font of :data:`FALLBACK_FAMILIES` installed on the machine.

Why no bundled font: a font covering CJK weighs 5-20 MB per weight, a lot for a simulator
that most users run in Latin script, and no small package on the package index provides
one; emoji fonts in colour (CBDT, sbix) cannot be drawn by matplotlib at all. So the
fallback list names what the usual systems provide (Debian's ``fonts-noto-cjk``,
``fonts-wqy-microhei``, ``fonts-droid-fallback`` and ``fonts-symbola``; macOS and Windows
fonts), and :func:`uncovered` says which characters no installed font has: the report
states that limitation in itself (:func:`loyaltysim.output.report_content.font_notice`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

__all__ = ["BASE_FAMILY", "FALLBACK_FAMILIES", "font_families", "uncovered"]

BASE_FAMILY = "DejaVu Sans"
FALLBACK_FAMILIES: tuple[str, ...] = (
    # CJK (Chinese, Japanese, Korean), in order of coverage
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Source Han Sans",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "Yu Gothic",
    "Malgun Gothic",
    "Hiragino Sans",
    "Arial Unicode MS",
    # other scripts (Arabic, Hebrew, Indic, Thai ...)
    "Noto Sans",
    "FreeSans",
    # emoji and symbols, monochrome (matplotlib cannot draw colour emoji)
    "Noto Emoji",
    "Symbola",
    "Segoe UI Emoji",
    "Segoe UI Symbol",
)


@functools.cache
def font_families() -> tuple[str, ...]:
    """DejaVu Sans followed by the fallback fonts installed here (as matplotlib sees them)."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    # matplotlib's font cache is built once per matplotlib version, so a font installed
    # since then is unknown to it: add the system's font files it has not seen.
    known = {f.fname for f in manager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known and path.lower().endswith((".ttf", ".otf", ".ttc")):
            try:
                manager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue  # a font file FreeType cannot read
    installed = {f.name for f in manager.ttflist}
    return (BASE_FAMILY, *(name for name in FALLBACK_FAMILIES if name in installed))


@functools.cache
def _charmap(family: str) -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError):  # an unreadable font file: it covers nothing
        return frozenset()


def uncovered(texts: Iterable[str], families: Sequence[str] | None = None) -> list[str]:
    """The characters of ``texts`` that none of ``families`` has, in order of appearance.

    Whitespace and control characters are not counted (nothing is drawn for them), nor are
    variation selectors and joiners, which only modify the character before them.
    """
    families = font_families() if families is None else tuple(families)
    covered = [_charmap(f) for f in families]
    missing: dict[str, None] = {}
    for text in texts:
        for ch in text:
            code = ord(ch)
            if ch.isspace() or code < 0x20 or 0xFE00 <= code <= 0xFE0F or code in (0x200D,):
                continue
            if ch not in missing and not any(code in c for c in covered):
                missing[ch] = None
    return list(missing)
