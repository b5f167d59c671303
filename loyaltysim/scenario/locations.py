"""Where a key stands in a TOML file: the line of every key path.

``tomllib`` gives no positions, so :class:`_Locator` scans the text for the line of each
key path. It understands headers, arrays of tables, dotted and quoted keys, and arrays and
inline tables spanning lines; it is only run on text ``tomllib`` has already accepted, and
anything it cannot place falls back to the enclosing table's line, then to line 1.
"""

from __future__ import annotations

import contextlib
import re
import tomllib

from loyaltysim.scenario.errors import KeyPath


class _Locator:
    """The line of every key path in a TOML text (first occurrence).

    A small recursive-descent scan of valid TOML: headers (with array-of-tables indexes),
    dotted and quoted keys, strings of all four kinds, arrays and inline tables (which
    may span lines). Values are skipped, not parsed. It is best-effort: on anything it does
    not expect it stops, and :meth:`line` falls back to the nearest located parent.
    """

    _BARE = re.compile(r"[A-Za-z0-9_-]+")
    _SCALAR = re.compile(r"[^,\]}#\r\n]+")  # numbers, booleans, dates: up to a delimiter

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line = 1
        self._aot: dict[KeyPath, int] = {}  # array-of-tables path -> entries so far
        self.lines: dict[KeyPath, int] = {}
        # Keep what was located on anything unexpected; the rest falls back to parents.
        with contextlib.suppress(ValueError, IndexError, RecursionError):
            self._document()

    def line(self, path: KeyPath) -> int:
        """Line of ``path``, else of its nearest located parent, else 1."""
        for n in range(len(path), 0, -1):
            found = self.lines.get(tuple(path[:n]))
            if found:
                return found
        return 1

    # scanning helpers
    def _peek(self, n: int = 1) -> str:
        return self._text[self._pos : self._pos + n]

    def _advance(self, to: int) -> None:
        self._line += self._text.count("\n", self._pos, to)
        self._pos = to

    def _expect(self, token: str) -> None:
        if self._peek(len(token)) != token:
            raise ValueError(f"expected {token!r} at line {self._line}")
        self._advance(self._pos + len(token))

    def _skip(self, newlines: bool) -> None:
        while True:
            c = self._peek()
            if c in (" ", "\t") or (newlines and c in ("\n", "\r")):
                self._advance(self._pos + 1)
            elif newlines and c == "#":
                end = self._text.find("\n", self._pos)
                self._advance(len(self._text) if end < 0 else end)
            else:
                return

    def _record(self, path: KeyPath, line: int) -> None:
        for n in range(1, len(path) + 1):
            self.lines.setdefault(path[:n], line)

    # grammar
    def _document(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip(newlines=True)
            if not self._peek():
                return
            line = self._line
            if self._peek(2) == "[[":
                self._advance(self._pos + 2)
                keys = self._key()
                self._skip(newlines=False)
                self._expect("]]")
                array = self._resolve(keys, array=True)
                index = self._aot.get(array, 0)
                self._aot[array] = index + 1
                table = (*array, index)
                self._record(table, line)
            elif self._peek() == "[":
                self._advance(self._pos + 1)
                keys = self._key()
                self._skip(newlines=False)
                self._expect("]")
                table = self._resolve(keys, array=False)
                self._record(table, line)
            else:
                self._pair(table)

    def _resolve(self, keys: tuple[str, ...], array: bool) -> KeyPath:
        """A header's keys as a path: a prefix naming an array of tables means its last
        entry (``[variants.set]`` after two ``[[variants]]`` is ``variants.1.set``)."""
        out: KeyPath = ()
        for n, key in enumerate(keys):
            out = (*out, key)
            if out in self._aot and not (array and n == len(keys) - 1):
                out = (*out, self._aot[out] - 1)
        return out

    def _pair(self, table: KeyPath) -> None:
        line = self._line
        path = (*table, *self._key())
        self._skip(newlines=False)
        self._expect("=")
        self._skip(newlines=False)
        self._record(path, line)
        self._value(path)

    def _key(self) -> tuple[str, ...]:
        keys: list[str] = []
        while True:
            self._skip(newlines=False)
            c = self._peek()
            if c in ('"', "'"):
                start = self._pos
                self._string()
                keys.append(_decode_key(self._text[start : self._pos]))
            else:
                match = self._BARE.match(self._text, self._pos)
                if not match:
                    raise ValueError(f"expected a key at line {self._line}")
                keys.append(match.group())
                self._advance(match.end())
            self._skip(newlines=False)
            if self._peek() != ".":
                return tuple(keys)
            self._advance(self._pos + 1)

    def _value(self, path: KeyPath) -> None:
        c = self._peek()
        if c == "[":
            self._advance(self._pos + 1)
            index = 0
            while True:
                self._skip(newlines=True)
                if self._peek() == "]":
                    self._advance(self._pos + 1)
                    return
                item = (*path, index)
                self._record(item, self._line)
                self._value(item)
                self._skip(newlines=True)
                if self._peek() == ",":
                    self._advance(self._pos + 1)
                    index += 1
                elif self._peek() != "]":
                    raise ValueError(f"expected ',' or ']' at line {self._line}")
        elif c == "{":
            self._advance(self._pos + 1)
            while True:
                self._skip(newlines=True)
                if self._peek() == "}":
                    self._advance(self._pos + 1)
                    return
                self._pair(path)
                self._skip(newlines=True)
                if self._peek() == ",":
                    self._advance(self._pos + 1)
                elif self._peek() != "}":
                    raise ValueError(f"expected ',' or '}}' at line {self._line}")
        elif c in ('"', "'"):
            self._string()
        else:
            match = self._SCALAR.match(self._text, self._pos)
            if not match:
                raise ValueError(f"expected a value at line {self._line}")
            self._advance(match.end())

    def _string(self) -> None:
        """Skip a string of any of TOML's four kinds."""
        text, pos = self._text, self._pos
        for quotes in ('"""', "'''"):
            if text.startswith(quotes, pos):
                end = pos + 3
                while True:
                    end = text.find(quotes, end)
                    if end < 0:
                        raise ValueError("unterminated string")
                    if quotes == '"""' and _escaped(text, end):
                        end += 1
                        continue
                    break
                end += 3
                extra = 0
                while extra < 2 and end < len(text) and text[end] == quotes[0]:
                    end += 1  # up to two quotes may end the content: """a"""""
                    extra += 1
                self._advance(end)
                return
        quote = text[pos]
        end = pos + 1
        while True:
            end = text.find(quote, end)
            if end < 0:
                raise ValueError("unterminated string")
            if quote == '"' and _escaped(text, end):
                end += 1
                continue
            break
        self._advance(end + 1)


def _escaped(text: str, pos: int) -> bool:
    """Whether the character at ``pos`` is escaped by an odd run of backslashes."""
    n = 0
    while pos - n - 1 >= 0 and text[pos - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def _decode_key(quoted: str) -> str:
    try:
        return str(tomllib.loads(f"k = {quoted}")["k"])
    except tomllib.TOMLDecodeError:
        return quoted[1:-1]
