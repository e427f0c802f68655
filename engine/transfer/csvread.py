"""Reading the CSV files people actually have: any common delimiter, any common encoding.

``open_table(handle)`` reads a file as it is used: the header at once, then the
records one at a time (decoded and parsed a chunk at a time, so a file of any length
costs the memory of a row); ``read_table(data)`` does the same for bytes in memory.
- the encoding: UTF-8 with or without a byte-order mark, UTF-16 and UTF-32 (with a
  BOM, or without one when the zero bytes give it away), else Windows-1252, the
  superset of Latin-1 that spreadsheets on Windows write (and Latin-1 itself for the
  few bytes Windows-1252 leaves undefined);
- the delimiter: comma, semicolon, tab or pipe, whichever splits the first lines
  into the same number of cells (a ``.tsv`` name prefers tab);
- quoted fields with delimiters, doubled quotes and line breaks inside; blank lines
  (and lines of only delimiters) are skipped, but a header of only delimiters is an
  error; a quote left open is an error; so are zero bytes, a line too long to be a row
  and files that are surely something else (workbooks, keys).

Every record knows its row number as a spreadsheet shows it (the header is row 1,
blank lines count) and the line of the file where it starts, so an error can point
at it. Header names are kept as written; ``header_key`` is the form they are matched
by (case, spaces, underscores and punctuation ignored).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from funnel.engine.errors import FunnelError

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_CHARS = 64 * 1024
MAX_FIELD_CHARS = 1_000_000  # one cell; csv's default (131,072) is too small for notes
MAX_LINE_CHARS = 16_000_000  # one line of the file: bounds the memory a row can take
MAX_COLUMNS = 10_000
READ_CHUNK = 1 << 20  # bytes read at a time

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
    records: Iterable[Record]  # a tuple, or an iterator read once (``open_table``)
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
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
         (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
_NOT_TEXT = "holds zero bytes: it is not a text file; save it as CSV"
_TOO_LONG = f"a line is longer than {MAX_LINE_CHARS:,} characters; is this a CSV file?"


def sniff_encoding(head: bytes, path: str = "<data>") -> tuple[str, str] | None:
    """(codec, label) that the first bytes of a file give away: a byte-order mark, or the
    zero bytes of UTF-16 and UTF-32 text; None when only reading all of it can tell
    UTF-8 from Windows-1252 (``whole_file_codec``)."""
    for bom, codec, label in _BOMS:  # UTF-32's LE mark starts like UTF-16's: it comes first
        if head.startswith(bom):
            return codec, label
    sample = head[:4096]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    # ASCII in UTF-32 has three zero bytes beside every character, in UTF-16 one; where
    # the zeros fall says which end comes first.
    quarter = len(sample) // 4
    zeros = [sample[offset::4].count(0) / quarter for offset in range(4)]
    guesses = []
    if zeros[2] > 0.9 and zeros[3] > 0.9:
        guesses.append(("utf-32-le", "UTF-32 (LE)"))
    if zeros[0] > 0.9 and zeros[1] > 0.9:
        guesses.append(("utf-32-be", "UTF-32 (BE)"))
    odd_zeros, even_zeros = sample[1::2].count(0), sample[0::2].count(0)
    codec16 = "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"
    guesses.append((codec16, f"UTF-16 ({codec16[-2:].upper()})"))
    for codec, label in guesses:
        try:
            codecs.getincrementaldecoder(codec)().decode(sample[:quarter * 4])
        except UnicodeDecodeError:
            continue
        return codec, label
    raise ImportFileError(path, _NOT_TEXT)


def whole_file_codec(handle: BinaryIO) -> tuple[str, str]:
    """UTF-8 when every byte of the file reads as UTF-8, else Windows-1252 (or Latin-1
    for the bytes Windows-1252 leaves undefined). Reads the file once, a chunk at a
    time, and puts it back at the start."""
    try:
        for codec, label in (("utf-8", "UTF-8"), ("cp1252", "Windows-1252 (Latin-1)")):
            decoder = codecs.getincrementaldecoder(codec)()
            handle.seek(0)
            try:
                while chunk := handle.read(READ_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return codec, label
        return "latin-1", "Latin-1"
    finally:
        handle.seek(0)


def decode(data: bytes, path: str = "<data>") -> tuple[str, str]:
    """The text of ``data`` (a whole file) and the name of the encoding it was read in."""
    found = sniff_encoding(data, path)
    if found is None:
        found = whole_file_codec(io.BytesIO(data))
    codec, label = found
    try:
        return data.decode(codec), label
    except UnicodeDecodeError:
        raise ImportFileError(path, _not_valid(label)) from None


def check_not_binary(data: bytes, path: str) -> None:
    """Refuse, by their first bytes, files that are surely not CSV (workbooks, keys)."""
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(path, "is a spreadsheet workbook (.xlsx/.ods), not CSV; save "
                              "it as CSV (File > Save As > CSV UTF-8) and import that")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(path, "is an old Excel workbook (.xls), not CSV; save it as "
                              "CSV (File > Save As > CSV UTF-8) and import that")
    if data.lstrip()[:11] == b"-----BEGIN ":
        raise ImportFileError(path, "does not look like a contacts file: it is a key or "
                              "certificate (PEM); nothing was read from it")


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
    """Decode, sniff and parse a whole CSV file held in memory (``open_table`` streams)."""
    table = open_table(io.BytesIO(data), path)
    records = tuple(table.records)
    if progress is not None:
        progress("read", len(records), len(records))
    return Table(table.encoding, table.delimiter, table.header, records, table.header_line)


def open_table(handle: BinaryIO, path: str = "<data>") -> Table:
    """A CSV file read as it is used: the encoding, delimiter and header now, and
    ``records`` an iterator that decodes and parses the rest a chunk at a time, so a
    file of any length costs the memory of one row. ``handle`` must be seekable (the
    file is read twice when only all of it can tell UTF-8 from Windows-1252)."""
    head = handle.read(SAMPLE_CHARS)
    check_not_binary(head, path)
    found = sniff_encoding(head, path)
    if found is None:
        found = whole_file_codec(handle)
    codec, label = found
    handle.seek(0)
    # Universal newlines: Windows and old Mac line ends become \n, in quoted cells too.
    text = io.TextIOWrapper(handle, encoding=codec, errors="strict", newline=None)
    try:
        sample = text.read(SAMPLE_CHARS)
        if not sample.endswith("\n"):  # the rest of its last line, so lines stay whole
            rest = text.readline(MAX_LINE_CHARS)
            if len(rest) >= MAX_LINE_CHARS and not rest.endswith("\n"):
                raise ImportFileError(path, _TOO_LONG)
            sample += rest
    except UnicodeDecodeError:
        raise ImportFileError(path, _not_valid(label)) from None
    if "\x00" in sample:
        raise ImportFileError(path, _NOT_TEXT)
    if not sample.strip():
        raise ImportFileError(path, "is empty; a CSV file needs a header row and a row per "
                              "contact")
    delimiter = sniff_delimiter(sample, "\t" if path.lower().endswith(".tsv") else None)
    # csv reads lines; they come from blocks of whole lines split in C (StringIO).
    blocks = itertools.chain([sample], _blocks(text))
    lines = itertools.chain.from_iterable(io.StringIO(block, newline="\n") for block in blocks)
    return _Parser(lines, delimiter, label, path).table()


def _blocks(text: io.TextIOWrapper) -> Iterator[str]:
    """The rest of the text in blocks of whole lines, a chunk at a time. A zero byte, or
    a line too long to be one row's text, ends it with ``_BadLine`` once the lines
    before it were read (so the parser names the row)."""
    carry = ""
    while chunk := text.read(READ_CHUNK):
        cut = chunk.rfind("\n") + 1
        if not cut:
            carry += chunk
            if len(carry) >= MAX_LINE_CHARS:
                raise _BadLine(_TOO_LONG)
            continue
        block, carry = carry + chunk[:cut], chunk[cut:]
        yield from _checked(block)
    if carry:
        yield from _checked(carry)


def _checked(block: str) -> Iterator[str]:
    zero = block.find("\x00")
    if zero < 0:
        yield block
        return
    yield block[:block.rfind("\n", 0, zero) + 1]
    raise _BadLine(_NOT_TEXT)


class _BadLine(Exception):
    """A line the parser cannot take (named with its row by ``_Parser``)."""


def _not_valid(label: str) -> str:
    if label.startswith(("UTF-16 (", "UTF-32 (")):  # guessed from zero bytes: it was not
        return _NOT_TEXT
    return f"not valid {label} text; save the file again as CSV UTF-8"


class _Parser:
    """Rows of CSV text, numbered as a spreadsheet numbers them."""

    def __init__(self, lines: Iterator[str], delimiter: str, label: str, path: str) -> None:
        if csv.field_size_limit() < MAX_FIELD_CHARS:
            csv.field_size_limit(MAX_FIELD_CHARS)
        self.reader = csv.reader(lines, delimiter=delimiter, strict=True)
        self.delimiter, self.label, self.path = delimiter, label, path
        self.row = 0
        self.line = 1  # where the next record starts

    def next_cells(self) -> tuple[int, list[str]] | None:
        """(line where it starts, cells) of the next row; None at the end of the file."""
        try:
            cells = next(self.reader)
        except StopIteration:
            return None
        except csv.Error as error:
            raise self.error(_csv_problem(str(error))) from None
        except _BadLine as error:
            raise self.error(str(error)) from None
        except UnicodeDecodeError:
            raise self.error(_not_valid(self.label)) from None
        self.row += 1
        start, self.line = self.line, self.reader.line_num + 1
        return start, cells

    def error(self, message: str) -> ImportFileError:
        return ImportFileError(self.path, message, self.row + 1, self.line)

    def table(self) -> Table:
        while (found := self.next_cells()) is not None:
            start, cells = found
            if any(map(str.strip, cells)):
                if len(cells) > MAX_COLUMNS:
                    raise ImportFileError(self.path, f"the header has {len(cells):,} columns; "
                                          f"at most {MAX_COLUMNS:,} can be imported",
                                          self.row, start)
                header = tuple(restore(cell.strip()) for cell in cells)
                return Table(self.label, self.delimiter, header, self.records(), start)
            if len(cells) > 1:  # a line of only delimiters where the header should be
                raise ImportFileError(self.path, "the header row names no columns (it holds "
                                      "only delimiters); the first row must name the "
                                      "columns, e.g. email,name,company", self.row, start)
        raise ImportFileError(self.path, "is empty; a CSV file needs a header row and a row "
                              "per contact")

    def records(self) -> Iterator[Record]:
        while (found := self.next_cells()) is not None:
            start, cells = found
            if any(map(str.strip, cells)):  # not a blank line, nor only delimiters
                yield Record(self.row, start, tuple(cells))


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
