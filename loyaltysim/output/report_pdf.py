"""The report as a PDF, drawn with matplotlib alone from the same content as the HTML.

matplotlib's :class:`~matplotlib.backends.backend_pdf.PdfPages` needs no browser and no
system library: text pages are laid out with ``Figure.text`` by :class:`_PdfLayout` (word
wrap, tables, page breaks), charts are placed as images. The fonts are a fallback list
(:mod:`loyaltysim.output.fonts`): characters that no installed font has are named in an
alert at the top of the PDF itself, never silently drawn as boxes.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Sequence
from typing import Any

from loyaltysim.output import fonts
from loyaltysim.output.report_content import font_notice
from loyaltysim.output.report_doc import (
    Block,
    Bullets,
    Cards,
    Figure,
    Paragraph,
    Report,
    Subheading,
    Table,
    all_text,
)

__all__ = ["render_pdf"]

VERDICT_COLOURS = {
    "safe": "#009E73",
    "unsafe": "#D55E00",
    "unresolved": "#B07800",
    "undecided": "#B07800",
}
MUTED = "#555555"


def _extend(line: str, words: Sequence[str]) -> str:
    """``line`` with ``words`` added one by one, each after a space (none on an empty
    line): the candidate lines the greedy wrap measures."""
    for word in words:
        line = f"{line} {word}" if line else word
    return line


class _PdfLayout:
    """Pages of text, tables and images drawn with ``Figure.text`` (A4 portrait, inches).

    matplotlib has no text flow, so lines are wrapped here by measuring each candidate
    line with the same font that draws it (``TextToPath``), and a new page starts when the
    cursor reaches the bottom margin.
    """

    W, H = 8.27, 11.69
    MARGIN = 0.7
    BOTTOM = 0.8

    def __init__(self, pdf: Any, footer: str) -> None:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath

        self.pdf = pdf
        self.footer = footer
        self.pages = 0
        self._measure = TextToPath()
        self._font = FontProperties
        self._word_widths: dict[tuple[str, float, str], float] = {}
        self.fig: Any = None
        self.y = 0.0
        self._new_page()

    # ---- pages

    def _new_page(self) -> None:
        from matplotlib.figure import Figure

        self._flush()
        self.fig = Figure(figsize=(self.W, self.H))
        self.pages += 1
        self.y = self.H - self.MARGIN

    def _flush(self) -> None:
        if self.fig is None:
            return
        self.fig.text(
            self.MARGIN, 0.4, self.footer, fontsize=7.5, color="#777777",
            transform=self.fig.dpi_scale_trans,
        )  # fmt: skip
        self.fig.text(
            self.W - self.MARGIN, 0.4, f"page {self.pages}", fontsize=7.5, color="#777777",
            ha="right", transform=self.fig.dpi_scale_trans,
        )  # fmt: skip
        self.pdf.savefig(self.fig)
        self.fig = None

    def close(self) -> None:
        """Write the last page."""
        self._flush()

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` inches fit above the bottom margin."""
        if self.y - height < self.BOTTOM:
            self._new_page()

    def space(self, inches: float) -> None:
        """Vertical space."""
        self.y -= inches

    # ---- text

    def width_of(self, text: str, size: float, weight: str = "normal") -> float:
        """Width of ``text`` in inches at ``size`` points."""
        prop = self._font(size=size, weight=weight)
        w, _, _ = self._measure.get_text_width_height_descent(text, prop, ismath=False)
        return float(w) / 72.0

    def wrap(self, text: str, width: float, size: float, weight: str = "normal") -> list[str]:
        """Greedy word wrap to ``width`` inches; over-long words are cut.

        Each line takes as many of the next words as fit. Measuring a string costs time in
        proportion to its length, so trying every word in turn costs the square of a
        paragraph; instead the number of words is guessed from the words' own widths
        and then checked by measuring the line with that many and one more (widths only
        grow as words are added, so the two measurements decide it exactly).
        """
        lines: list[str] = []
        for paragraph in text.split("\n"):
            if self.width_of(paragraph, size, weight) <= width:  # most cells: one call
                lines.append(paragraph)
                continue
            words = paragraph.split(" ")
            line, i = "", 0
            while i < len(words):
                k = self._words_that_fit(line, words[i:], width, size, weight)
                if k:
                    line = _extend(line, words[i : i + k])
                    i += k
                    continue
                word = words[i]
                i += 1
                if line:
                    lines.append(line)
                while self.width_of(word, size, weight) > width and len(word) > 1:
                    cut = len(word)
                    while cut > 1 and self.width_of(word[:cut], size, weight) > width:
                        cut = max(1, int(cut * 0.8))
                    lines.append(word[:cut])
                    word = word[cut:]
                line = word
            lines.append(line)
        return lines

    def _words_that_fit(
        self, line: str, words: Sequence[str], width: float, size: float, weight: str
    ) -> int:
        """The most of ``words`` that fit on ``line`` (each after a space, as typed)."""

        def fits(k: int) -> bool:
            return k == 0 or self.width_of(_extend(line, words[:k]), size, weight) <= width

        # The guess: the words' widths and a space's add up (kerning aside) to the line's.
        room = width - (self.width_of(line, size, weight) if line else 0.0)
        space = self._word_width(" ", size, weight)
        k = 0
        while k < len(words):
            room -= self._word_width(words[k], size, weight) + (space if line or k else 0.0)
            if room < 0:
                break
            k += 1
        if fits(k):
            while k < len(words) and fits(k + 1):
                k += 1
            return k
        while k > 0 and not fits(k):
            k -= 1
        return k

    def _word_width(self, word: str, size: float, weight: str) -> float:
        key = (word, size, weight)
        if key not in self._word_widths:
            self._word_widths[key] = self.width_of(word, size, weight)
        return self._word_widths[key]

    def text(
        self,
        text: str,
        size: float = 10.0,
        weight: str = "normal",
        color: str = "#1a1a1a",
        indent: float = 0.0,
        after: float = 0.08,
        bullet: str | None = None,
    ) -> None:
        """A wrapped paragraph."""
        x = self.MARGIN + indent
        width = self.W - self.MARGIN - x
        line_h = size * 1.38 / 72.0
        for i, line in enumerate(self.wrap(text, width, size, weight)):
            self.need(line_h)
            if bullet and i == 0:
                self.fig.text(
                    x - 0.15, self.y, bullet, fontsize=size, va="top", color=color,
                    transform=self.fig.dpi_scale_trans,
                )  # fmt: skip
            self.fig.text(
                x, self.y, line, fontsize=size, weight=weight, va="top", color=color,
                transform=self.fig.dpi_scale_trans,
            )  # fmt: skip
            self.y -= line_h
        self.y -= after

    def heading(self, text: str, size: float = 15.0) -> None:
        """A section heading with a rule under it; never alone at the foot of a page."""
        self.need(size / 72.0 * 1.6 + 0.9)
        self.space(0.12)
        self.text(text, size=size, weight="bold", after=0.02)
        self.fig.add_artist(_rule(self.fig, self.MARGIN, self.W - self.MARGIN, self.y + 0.02))
        self.y -= 0.12

    def box(self, text: str, edge: str, face: str, size: float = 10.5) -> None:
        """A framed, bold paragraph (the status of an incomplete run)."""
        from matplotlib.patches import Rectangle

        width = self.W - 2 * self.MARGIN - 0.3
        lines = self.wrap(text, width, size, "bold")
        line_h = size * 1.38 / 72.0
        height = line_h * len(lines) + 0.2
        self.need(height)
        self.fig.add_artist(
            Rectangle(
                (self.MARGIN, self.y - height), self.W - 2 * self.MARGIN, height,
                transform=self.fig.dpi_scale_trans, facecolor=face, edgecolor=edge,
                linewidth=2.5,
            )
        )  # fmt: skip
        self.y -= 0.1
        for line in lines:
            self.fig.text(
                self.MARGIN + 0.15, self.y, line, fontsize=size, weight="bold", va="top",
                transform=self.fig.dpi_scale_trans,
            )  # fmt: skip
            self.y -= line_h
        self.y -= 0.25

    def table(
        self,
        header: Sequence[str] | None,
        rows: Sequence[Sequence[str] | str],
        widths: Sequence[float],
        size: float = 8.0,
        right: Sequence[int] = (),
    ) -> None:
        """A table with wrapped cells; ``widths`` are fractions of the text width.

        A row that is a plain string is a group heading across the table; ``header`` None
        draws no header row.
        """
        total = self.W - 2 * self.MARGIN
        cols = [w * total for w in widths]
        line_h = size * 1.35 / 72.0

        def draw_row(cells: Sequence[str], weight: str, shade: str | None) -> None:
            wrapped = [self.wrap(str(c), cols[i] - 0.08, size, weight) for i, c in enumerate(cells)]
            height = max(len(w) for w in wrapped) * line_h + 0.06
            if self.y - height < self.BOTTOM:
                self._new_page()
                if weight != "bold" and header is not None:
                    draw_row(header, "bold", "#EEEEEC")
            if shade:
                from matplotlib.patches import Rectangle

                self.fig.add_artist(
                    Rectangle(
                        (self.MARGIN, self.y - height), total, height, facecolor=shade,
                        edgecolor="none", transform=self.fig.dpi_scale_trans,
                    )
                )  # fmt: skip
            x = self.MARGIN
            for i, lines in enumerate(wrapped):
                for k, line in enumerate(lines):
                    at_right = i in right
                    self.fig.text(
                        x + (cols[i] - 0.04 if at_right else 0.04),
                        self.y - 0.03 - k * line_h, line, fontsize=size, weight=weight,
                        va="top", ha="right" if at_right else "left",
                        transform=self.fig.dpi_scale_trans,
                    )  # fmt: skip
                x += cols[i]
            self.y -= height
            self.fig.add_artist(_rule(self.fig, self.MARGIN, self.W - self.MARGIN, self.y, 0.4))

        if header is not None:
            draw_row(header, "bold", "#EEEEEC")
        for row in rows:
            if isinstance(row, str):
                draw_row([row, *[""] * (len(cols) - 1)], "bold", "#FAFAF8")
            else:
                draw_row(row, "normal", None)
        self.y -= 0.12

    def image(self, png: bytes, caption: str) -> None:
        """A chart scaled to the text width, with its caption below (it has its own title)."""
        import matplotlib.image

        img = matplotlib.image.imread(io.BytesIO(png), format="png")
        width = self.W - 2 * self.MARGIN
        height = width * img.shape[0] / img.shape[1]
        max_h = self.H - self.MARGIN - self.BOTTOM - 1.2
        if height > max_h:
            width, height = width * max_h / height, max_h
        caption_lines = self.wrap(caption, self.W - 2 * self.MARGIN, 9.0)
        self.need(height + 0.2 + len(caption_lines) * 9 * 1.38 / 72)
        left = (self.W - width) / 2
        ax = self.fig.add_axes(
            (left / self.W, (self.y - height) / self.H, width / self.W, height / self.H)
        )
        ax.imshow(img, interpolation="none")
        ax.set_axis_off()
        self.y -= height + 0.08
        self.text(caption, size=9.0, color="#555555", after=0.25)


def _rule(fig: Any, x0: float, x1: float, y: float, width: float = 1.2) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], transform=fig.dpi_scale_trans, color="#999999", linewidth=width)


def _block(page: _PdfLayout, block: Block) -> None:
    if isinstance(block, Paragraph):
        text = f"{block.text} {block.code}" if block.code else block.text
        if block.kind == "note":
            page.text(text, size=8.5, color=MUTED)
        elif block.kind == "lead":
            page.text(text, size=10.5, weight="bold", after=0.15)
        else:
            page.text(text, size=9.5)
    elif isinstance(block, Subheading):
        page.text(block.text, size=11, weight="bold")
    elif isinstance(block, Table):
        page.table(
            block.header,
            [row if isinstance(row, str) else [c.text for c in row] for row in block.rows],
            block.widths,
            size=block.size,
            right=block.numeric,
        )
    elif isinstance(block, Cards):
        for card in block.cards:
            page.need(0.9)
            page.text(card.name, size=11.5, weight="bold", after=0.0)
            colour = VERDICT_COLOURS.get(card.verdict, MUTED)
            page.text("; ".join(card.badges), size=10, weight="bold", color=colour)
            for sentence in card.sentences:
                page.text(sentence, size=9.5, indent=0.25, bullet="•", after=0.03)
            page.space(0.1)
    elif isinstance(block, Bullets):
        for label, text in block.items:
            page.text(f"{label}: {text}", size=9.5, indent=0.25, bullet="•", after=0.04)
    elif isinstance(block, Figure):
        page.image(block.png, block.caption)


def _content(page: _PdfLayout, report: Report) -> None:
    page.text(report.title, size=22, weight="bold", after=0.04)
    page.text(report.subtitle, size=9.5, color=MUTED, after=0.2)
    for alert in report.alerts:
        page.box(alert, edge="#D55E00", face="#FDF0E8")
    for note in report.notes:
        page.text(note, size=9, color=MUTED)
    for section in report.sections:
        if section.new_page:
            page._new_page()
        page.heading(section.title)
        for block in section.blocks:
            _block(page, block)
    _block(page, dataclasses.replace(report.closing, kind="note"))
    page.text(report.footer, size=8, color=MUTED)


def with_font_notice(report: Report, families: Sequence[str]) -> Report:
    """``report`` with an alert naming the characters none of ``families`` can draw."""
    missing = fonts.uncovered(all_text(report), families)
    if not missing:
        return report
    return dataclasses.replace(report, alerts=(*report.alerts, font_notice(missing)))


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes, drawn with matplotlib only."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    families = fonts.font_families()
    report = with_font_notice(report, families)
    # A fallback font without a bold face is used in its regular weight; matplotlib logs
    # a warning for every such lookup, which says nothing to the user.
    font_log = logging.getLogger("matplotlib.font_manager")
    level = font_log.level
    font_log.setLevel(logging.ERROR)
    buffer = io.BytesIO()
    metadata = {"Title": report.document_title, "Creator": "loyaltysim", "Subject": report.subject}
    with (
        matplotlib.rc_context({"font.family": list(families), "pdf.fonttype": 42}),
        PdfPages(buffer, metadata=metadata) as pdf,
    ):
        try:
            page = _PdfLayout(pdf, report.page_footer)
            _content(page, report)
            page.close()
        finally:
            font_log.setLevel(level)
    return buffer.getvalue()
