"""Reading real-world CSV files: delimiters, encodings, quoting, blank lines, formulas."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.engine.transfer.csvread import (FORMULA_START, ImportFileError, header_key, neutralise,
                            read_table, restore, sniff_delimiter)

ROWS = [["Name", "E-mail", "Notes"], ["Zofia Kowalczyk", "zofia@example.pl", "Łódź; café"],
        ["Jan de Vries", "jan@example.nl", "a, b"]]


def csv_text(delimiter: str, rows=ROWS) -> str:
    def cell(text: str) -> str:
        if delimiter in text or '"' in text or "\n" in text:
            return '"' + text.replace('"', '""') + '"'
        return text
    return "\r\n".join(delimiter.join(cell(c) for c in row) for row in rows) + "\r\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(delimiter: str) -> None:
    table = read_table(csv_text(delimiter).encode())
    assert table.delimiter == delimiter
    assert table.header == ("Name", "E-mail", "Notes")
    assert [r.cells for r in table.records] == [tuple(row) for row in ROWS[1:]]


def test_a_semicolon_file_with_commas_in_cells_is_still_semicolon() -> None:
    text = "name;amount;notes\nAnna;1,5;a, b, c\nPiet;2,25;x, y\n"
    assert sniff_delimiter(text) == ";"
    assert read_table(text.encode()).records[0].cells == ("Anna", "1,5", "a, b, c")


def test_a_tsv_name_prefers_tab_when_both_fit() -> None:
    text = "a\tb,c\n1\t2,3\n"
    assert read_table(text.encode(), "x.tsv").delimiter == "\t"


@pytest.mark.parametrize("encoding, bom, label", [
    ("utf-8", b"", "UTF-8"),
    ("utf-8", codecs.BOM_UTF8, "UTF-8 with BOM"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16"),
    ("utf-16-le", b"", "UTF-16 (LE)"),
    ("utf-16-be", b"", "UTF-16 (BE)"),
    ("cp1252", b"", "Windows-1252 (Latin-1)"),
])
def test_each_encoding_is_read(encoding: str, bom: bytes, label: str) -> None:
    rows = [["Name", "Company"], ["Zoë Müller", "Café Crème"], ["José", "Señor €"]]
    if encoding == "cp1252":
        rows[2][1] = "Señor €"  # € is 0x80 in Windows-1252
    data = bom + csv_text(",", rows).encode(encoding)
    table = read_table(data)
    assert table.encoding == label
    assert table.header == ("Name", "Company")  # no BOM left in the first name
    assert table.records[0].cells == ("Zoë Müller", "Café Crème")
    assert table.records[1].cells[1] == rows[2][1]


def test_latin1_bytes_windows_1252_leaves_undefined_fall_back_to_latin1() -> None:
    data = "name\nA\x81B\n".encode("latin-1")
    table = read_table(data)
    assert table.encoding == "Latin-1"
    assert table.records[0].cells == ("A\x81B",)


def test_quoted_cells_keep_newlines_delimiters_and_quotes() -> None:
    text = 'name,notes\r\nAnna,"first line\r\nsecond, with ""quotes"""\r\nPiet,plain\r\n'
    table = read_table(text.encode())
    assert table.records[0].cells == ("Anna", 'first line\nsecond, with "quotes"')
    # Rows as a spreadsheet numbers them (header = 1); lines as an editor does.
    assert [(r.row, r.line) for r in table.records] == [(2, 2), (3, 4)]


def test_blank_lines_and_lines_of_only_delimiters_are_skipped_but_counted() -> None:
    text = "\n\nname,email\n\nAnna,a@x.pl\n,,\n , \nPiet,p@x.nl\n\n"
    table = read_table(text.encode())
    assert table.header == ("name", "email")
    assert table.header_line == 3
    assert [(r.row, r.cells) for r in table.records] == [(5, ("Anna", "a@x.pl")),
                                                         (8, ("Piet", "p@x.nl"))]


def test_header_names_match_ignoring_case_spaces_and_punctuation() -> None:
    assert header_key("Total Visits") == header_key("totalvisits") == header_key(
        " TOTAL_VISITS ") == header_key("Total-Visits")
    assert header_key("E-mail") == "email"
    assert header_key("Łódź Office") == "łódźoffice"


@pytest.mark.parametrize("data, fragment", [
    (b"", "is empty"),
    (b"\n \n\r\n", "is empty"),
    (b"PK\x03\x04rest-of-a-zip", "workbook (.xlsx/.ods), not CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Excel workbook"),
    (b"name\x00\x00x\n" * 3 + b"abc", "not a text file"),
    (b"name,x\nab\x00c,d\n", "not a text file"),
])
def test_files_that_are_not_csv_are_refused_clearly(data: bytes, fragment: str) -> None:
    with pytest.raises(ImportFileError, match="leads.csv: .*" + fragment.replace(
            "(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        read_table(data, "leads.csv")


def test_a_quote_left_open_names_the_row_where_it_starts() -> None:
    text = 'name,notes\nAnna,ok\nPiet,"never closed\nJan,x\n'
    with pytest.raises(ImportFileError) as caught:
        read_table(text.encode(), "leads.csv")
    assert caught.value.row == 3 and caught.value.line == 3
    assert "quoted cell is not closed" in str(caught.value)


def test_text_after_a_closing_quote_is_an_error_with_a_fix() -> None:
    with pytest.raises(ImportFileError, match=r'row 2: text follows a closing quote; .*""'):
        read_table(b'name,notes\n"Anna"x,y\n', "f.csv")


def test_invalid_utf16_is_reported() -> None:
    with pytest.raises(ImportFileError, match="not valid UTF-16"):
        read_table(codecs.BOM_UTF16_LE + b"a\x00\x00\xd8", "f.csv")


# -- the formula guard ---------------------------------------------------------------
@pytest.mark.parametrize("cell", ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
                                  "\tx", "\rx", '=HYPERLINK("http://x","y")'])
def test_cells_a_spreadsheet_would_run_get_a_quote(cell: str) -> None:
    assert neutralise(cell) == "'" + cell
    assert restore(neutralise(cell)) == cell


@pytest.mark.parametrize("cell", ["-5", "+48", "12.5", "plain", "", "a=b", "'quoted"])
def test_numbers_and_ordinary_text_are_left_alone(cell: str) -> None:
    assert neutralise(cell) == cell
    assert restore(cell) == cell


def test_a_cell_that_already_starts_with_quote_and_formula_keeps_its_quote() -> None:
    assert neutralise("'=x") == "''=x"
    assert restore("''=x") == "'=x"


@given(st.text(max_size=30))
def test_restore_undoes_neutralise(text: str) -> None:
    guarded = neutralise(text)
    assert restore(guarded) == text
    assert not guarded or guarded[0] not in FORMULA_START or guarded.lstrip("+-").replace(
        ".", "", 1).isdigit()


# -- streaming (issue #12) -------------------------------------------------------------
def test_a_file_read_in_chunks_gives_every_row_as_a_whole_read_would(tmp_path) -> None:
    import csv
    import io

    from funnel.engine.transfer import csvread

    # Quoted cells with line breaks, \r\n and lone \r, long enough that rows and the
    # \r\n pairs fall across the reader's chunks (READ_CHUNK) and its first sample.
    rows = [["name", "notes", "email"]] + [
        [f"Zoë {i}", f"line one\r\nline, two {'x' * (i % 97)}\rend" if i % 3 else "plain",
         f"z{i}@example.pl"] for i in range(40_000)]
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path = tmp_path / "big.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    assert path.stat().st_size > 2 * csvread.READ_CHUNK
    with open(path, "rb") as handle:
        table = csvread.open_table(handle, "big.csv")
        got = [(record.row, list(record.cells)) for record in table.records]
    want = [[cell.replace("\r\n", "\n").replace("\r", "\n") for cell in row]
            for row in rows[1:]]
    assert [cells for _, cells in got] == want
    assert got[-1][0] == 40_001


def test_a_zero_byte_far_into_the_file_names_its_row() -> None:
    data = b"email,name\n" + b"a@x.pl,Anna\n" * 20_000 + b"b@x.pl,B\x00b\n"
    with pytest.raises(ImportFileError, match="row 20002: holds zero bytes"):
        tuple(read_table(data, "f.csv").records)


def test_a_line_too_long_to_be_a_row_is_refused_not_read_whole(monkeypatch) -> None:
    from funnel.engine.transfer import csvread

    monkeypatch.setattr(csvread, "MAX_LINE_CHARS", 100_000)
    monkeypatch.setattr(csvread, "READ_CHUNK", 10_000)  # as 16 M is to the real 1 M
    monkeypatch.setattr(csvread, "_TOO_LONG", "a line is longer than 100,000 characters")
    long_line = b"b@x.pl," + b"x" * 300_000 + b"\n"
    with pytest.raises(ImportFileError, match="f.csv: a line is longer than 100,000"):
        read_table(b"email,notes\na@x.pl,ok\n" + long_line, "f.csv")  # in the first sample
    data = b"email,notes\n" + b"a@x.pl,ok\n" * 8000 + long_line  # further on
    with pytest.raises(ImportFileError, match="row 8002: a line is longer than 100,000"):
        read_table(data, "f.csv")


def test_reading_a_big_file_costs_the_memory_of_a_chunk_not_of_the_file(
        tmp_path, monkeypatch) -> None:
    import tracemalloc

    from funnel.engine.transfer import csvread

    # A 64 KiB chunk (the real one is 1 MiB) shows on a few MB what the real one shows
    # on a file 16 times bigger.
    monkeypatch.setattr(csvread, "READ_CHUNK", 64 * 1024)
    row = "zofia{}@example.pl,Zofia Kowalczyk,\"Łódź; café, a note of some length\"\n"

    def peak_reading(rows: int) -> tuple[int, int]:
        path = tmp_path / f"{rows}.csv"
        with open(path, "w", encoding="utf-8") as out:
            out.write("email,name,notes\n")
            for start in range(0, rows, 1000):
                out.write("".join(row.format(i) for i in range(start, start + 1000)))
        tracemalloc.start()
        try:
            with open(path, "rb") as handle:
                count = sum(1 for _ in csvread.open_table(handle, path.name).records)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert count == rows
        return path.stat().st_size, peak

    small_size, small_peak = peak_reading(15_000)
    size, peak = peak_reading(60_000)
    assert size > 4_000_000 and peak < size / 4, (size, peak)
    assert peak < small_peak * 1.3, (small_peak, peak)  # four times the rows, same memory
