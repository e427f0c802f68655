"""Reading the CSV files people actually have: any common delimiter, any common encoding.

``read_table(data)`` turns the bytes of a file into a header and records:
- the encoding: UTF-8 with or without a byte-order mark, UTF-16 (with a BOM, or
  without one when the zero bytes give it away), else Windows-1252, the superset of
  Latin-1 that spreadsheets on Windows write (and Latin-1 itself for the few bytes
  Windows-1252 leaves undefined);
- the delimiter: comma, semicolon, tab or pipe, whichever splits the first lines
  into the same number of cells (a ``.tsv`` name prefers tab);
- quoted fields with delimiters, doubled quotes and line breaks inside; blank lines
  (and lines of only delimiters) are skipped; a quote left open is an error.

Every record knows its row number as a spreadsheet shows it (the header is row 1,
blank lines count) and the line of the file where it starts, so an error can point
at it. Header names are kept as written; ``header_key`` is the form they are matched
by (case, spaces, underscores and punctuation ignored).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from typing import Any, Callable

from funnel.engine.errors import FunnelError

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_CHARS = 64 * 1024
MAX_FIELD_CHARS = 1_000_000  # one cell; csv's default (131,072) is too small for notes

Progress = Callable[[str, int, int], None]  # (phase, done, total)


class ImportFileError(FunnelError):
    """The file as a whole cannot be read as a table (names the file, and the row if any)."""

    def __init__(self, path: str, message: str, row: int | None = None,
                 line: int | None = None) -> None:
        where = f"row {row}" + (f" (line {line})" if line and line != row else "") \
            if row else ""
        super().__init__(f"{path}: {where + ': ' if where else ''}{message}")
        self.path = path
        self.row = row
        self.line = line
        self.reason = message


@dataclass(frozen=True)
class Record:
    row: int  # as a spreadsheet numbers it: the header is row 1
    line: int  # the line of the file where the record starts
    cells: tuple[Any, ...]  # text from a CSV file; any JSON value from a JSON one


@dataclass(frozen=True)
class Table:
    encoding: str
    delimiter: str
    header: tuple[str, ...]
    records: tuple[Record, ...]
    header_line: int = 1

    @property
    def dialect(self) -> str:
        return f"{DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-separated, " \
               f"{self.encoding}"


_KEY_JUNK = re.compile(r"[\W_]+", re.UNICODE)


def header_key(name: str) -> str:
    """How header names are compared: ``Total Visits``, ``total_visits`` and
    ``TOTALVISITS`` are one name."""
    return _KEY_JUNK.sub("", name.casefold())


# -- encoding ------------------------------------------------------------------------
def decode(data: bytes, path: str = "<data>") -> tuple[str, str]:
    """The text of ``data`` and the name of the encoding it was read in."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[len(codecs.BOM_UTF8):], "utf-8", "UTF-8 with BOM", path), \
            "UTF-8 with BOM"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", "UTF-16", path), "UTF-16"
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(0) >= len(sample) // 4:
        # UTF-16 without a BOM: ASCII text has a zero byte beside every character.
        odd_zeros = sample[1::2].count(0)
        even_zeros = sample[0::2].count(0)
        codec = "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"
        try:
            return data.decode(codec), f"UTF-16 ({codec[-2:].upper()})"
        except UnicodeDecodeError:
            raise ImportFileError(path, "holds zero bytes: it is not a text file; save it "
                                  "as CSV") from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252 (Latin-1)"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _strict(data: bytes, codec: str, label: str, path: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        raise ImportFileError(path, f"not valid {label} text (byte {error.start}); save "
                              "the file again as CSV UTF-8") from None


def _check_not_binary(data: bytes, path: str) -> None:
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(path, "is a spreadsheet workbook (.xlsx/.ods), not CSV; save "
                              "it as CSV (File > Save As > CSV UTF-8) and import that")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(path, "is an old Excel workbook (.xls), not CSV; save it as "
                              "CSV (File > Save As > CSV UTF-8) and import that")


# -- delimiter -----------------------------------------------------------------------
def sniff_delimiter(text: str, prefer: str | None = None) -> str:
    """The delimiter that splits the first lines into one consistent number of cells."""
    sample = text[:SAMPLE_CHARS]
    if len(text) > SAMPLE_CHARS and "\n" in sample:
        sample = sample[:sample.rfind("\n") + 1]  # whole lines only
    best = ","
    best_score: tuple[float, ...] = (-1.0, 0, 0)  # (consistency, preferred, width, -rank)
    for rank, delimiter in enumerate(DELIMITERS):
        rows = _sample_rows(sample, delimiter)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for row in rows if len(row) == width) / len(rows)
        score = (round(consistent, 2), delimiter == prefer, width, -rank)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_rows(sample: str, delimiter: str) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
            if any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) >= 50:
                break
    except csv.Error:
        pass
    return rows


# -- the table -------------------------------------------------------------------------
def read_table(data: bytes, path: str = "<data>", progress: Progress | None = None
               ) -> Table:
    """Decode, sniff and parse a whole CSV file."""
    _check_not_binary(data, path)
    text, encoding = decode(data, path)
    if "\x00" in text:
        raise ImportFileError(path, "holds zero bytes: it is not a text file; save it as CSV")
    if not text.strip():
        raise ImportFileError(path, "is empty; a CSV file needs a header row and a row per "
                              "contact")
    delimiter = sniff_delimiter(text, "\t" if path.lower().endswith(".tsv") else None)
    return parse(text, delimiter, encoding, path, progress)


def parse(text: str, delimiter: str, encoding: str = "UTF-8", path: str = "<data>",
          progress: Progress | None = None) -> Table:
    if csv.field_size_limit() < MAX_FIELD_CHARS:
        csv.field_size_limit(MAX_FIELD_CHARS)
    if "\r" in text:  # Windows and old Mac line ends, inside quoted cells too
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: tuple[str, ...] | None = None
    header_line = 1
    records: list[Record] = []
    row = 0
    line = 1  # where the next record starts
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise ImportFileError(path, _csv_problem(str(error)), row + 1, line) from None
        row += 1
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or only delimiters
        if header is None:
            header = tuple(restore(cell.strip()) for cell in cells)
            header_line = start
            continue
        records.append(Record(row, start, tuple(cells)))
    if header is None:  # pragma: no cover - an all-blank text is refused before
        raise ImportFileError(path, "has no header row")
    if progress is not None:
        progress("read", len(records), len(records))
    return Table(encoding, delimiter, header, tuple(records), header_line)


def _csv_problem(message: str) -> str:
    if "unexpected end of data" in message:
        return "a quoted cell is not closed (a \" without its closing \"); the rest of the " \
               "file would be read as one cell"
    if "expected after" in message:
        return "text follows a closing quote; inside a quoted cell write a quote as \"\""
    if "field larger than" in message:
        return f"a cell is longer than {MAX_FIELD_CHARS:,} characters (a quote left open?)"
    return f"not valid CSV ({message})"


# -- spreadsheet formulas ------------------------------------------------------------
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection:
# =HYPERLINK(...), +cmd|..., @SUM(...)). An export prefixes such cells with a single
# quote; an import takes that quote off again, so an export reads back unchanged.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def neutralise(text: str) -> str:
    """The cell as an export writes it: inert in a spreadsheet, exact for an import."""
    if not text or _PLAIN_NUMBER.match(text):
        return text
    bare = text.lstrip("'")
    if text[0] in FORMULA_START or (bare != text and bare[:1] in FORMULA_START):
        return "'" + text
    return text


def restore(text: str) -> str:
    """Undo ``neutralise``: one leading quote before a formula character goes."""
    if text[:1] == "'" and text[1:].lstrip("'")[:1] in FORMULA_START and text[1:].lstrip("'"):
        return text[1:]
    return text
