"""The report as plain data: what it says, with no markup and no layout.

:func:`loyaltysim.output.report_content.build_report` fills a :class:`Report`; the HTML
renderer (:mod:`loyaltysim.output.report_html`, Jinja2 templates) and the PDF renderer
(:mod:`loyaltysim.output.report_pdf`, matplotlib) draw the same object, so every sentence
of the report is written once, here in the content and nowhere in a renderer. A renderer
adds only markup or layout: fonts, colours, page breaks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "Block",
    "Bullets",
    "Card",
    "Cards",
    "Cell",
    "Figure",
    "Paragraph",
    "Report",
    "Section",
    "Subheading",
    "Table",
    "all_text",
]


@dataclass(frozen=True)
class Cell:
    """A table cell: its text (a newline starts a smaller second line, an interval).

    ``style`` is ``""``, ``"code"`` (a command or value, monospace), ``"key"`` (a
    parameter's dotted name) or ``"badge"`` (a verdict, drawn in ``badge``'s colour).
    """

    text: str
    style: str = ""
    badge: str = ""


@dataclass(frozen=True)
class Table:
    """Rows of cells; a row that is a plain string is a group heading (``[business]``).

    ``widths`` are the columns' shares of the text width (the PDF lays them out; HTML lets
    the browser), ``numeric`` the right-aligned columns, ``size`` the PDF's point size.
    ``header`` None means no header row (a table of labelled values).
    """

    header: tuple[str, ...] | None
    rows: tuple[tuple[Cell, ...] | str, ...]
    widths: tuple[float, ...]
    numeric: tuple[int, ...] = ()
    size: float = 7.5


@dataclass(frozen=True)
class Paragraph:
    """A paragraph; ``kind`` is ``"body"`` or ``"note"`` (smaller, muted).

    ``code`` is a command shown after the text in monospace.
    """

    text: str
    kind: str = "body"
    code: str = ""


@dataclass(frozen=True)
class Subheading:
    """A heading inside a section."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A list of ``(label, text)`` items; the label is bold."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Card:
    """One plan's verdict: its name, badges (ruin risk, comparison) and sentences."""

    name: str
    verdict: str  # safe | unsafe | unresolved | unknown: the colour
    badges: tuple[str, ...]
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Cards:
    """The plans' cards, one after another."""

    cards: tuple[Card, ...]


@dataclass(frozen=True)
class Figure:
    """A chart: PNG bytes (the chart has its own title drawn in), a title and a caption."""

    name: str
    title: str
    caption: str
    png: bytes = field(repr=False)


Block = Paragraph | Subheading | Table | Bullets | Cards | Figure


@dataclass(frozen=True)
class Section:
    """A numbered part of the report; ``new_page`` starts it on a new PDF page."""

    anchor: str
    title: str
    blocks: tuple[Block, ...]
    new_page: bool = False


@dataclass(frozen=True)
class Report:
    """A whole report.

    Attributes
    ----------
    title : str
        The scenario's name, the report's heading.
    document_title : str
        The HTML ``<title>`` and the PDF's metadata title.
    subject : str
        The PDF's metadata subject.
    subtitle : str
        The line under the heading: run date, runs, horizon, when the report was made.
    alerts : tuple of str
        What the reader must see first (a run that did not complete, unreadable tables,
        characters the PDF's fonts cannot draw), each in a framed box.
    notes : tuple of str
        Smaller remarks under the alerts.
    sections : tuple of Section
        The body, in order.
    closing : Paragraph
        How to make this report again.
    footer : str
        The closing disclaimer.
    page_footer : str
        The PDF's running footer.
    """

    title: str
    document_title: str
    subject: str
    subtitle: str
    alerts: tuple[str, ...]
    notes: tuple[str, ...]
    sections: tuple[Section, ...]
    closing: Paragraph
    footer: str
    page_footer: str


def _block_text(block: Block) -> Iterator[str]:
    if isinstance(block, Paragraph):
        yield block.text
        yield block.code
    elif isinstance(block, Subheading):
        yield block.text
    elif isinstance(block, Table):
        yield from block.header or ()
        for row in block.rows:
            if isinstance(row, str):
                yield row
            else:
                yield from (c.text for c in row)
    elif isinstance(block, Bullets):
        for label, text in block.items:
            yield label
            yield text
    elif isinstance(block, Cards):
        for card in block.cards:
            yield card.name
            yield from card.badges
            yield from card.sentences
    elif isinstance(block, Figure):
        yield block.title
        yield block.caption


def all_text(report: Report) -> Iterator[str]:
    """Every piece of text the report shows (to check that its fonts cover it)."""
    yield from (report.title, report.subtitle, *report.alerts, *report.notes)
    for section in report.sections:
        yield section.title
        for block in section.blocks:
            yield from _block_text(block)
    yield from _block_text(report.closing)
    yield report.footer
    yield report.page_footer
