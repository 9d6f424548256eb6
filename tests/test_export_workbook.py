"""The workbook rules of `make export` on a small real DuckDB database: sheet names Excel accepts (at most 31
characters, unique without regard to case, no reserved characters) and a table longer than a sheet split over
numbered sheets, with the dictionary saying so. The sheet limit is passed small (3 rows) so the split is cheap to
reach; Excel's own limit is EXCEL_MAX_ROWS. The whole `make export` is tested in tests/test_user_failures.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import openpyxl

from pipelines.export import EXCEL_MAX_ROWS, exported_tables, sheet_names, write_workbook

LONG = "a_table_name_far_longer_than_excel_allows"


def test_long_names_are_shortened_uniquely_and_long_tables_split_over_numbered_sheets(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA paper")
    con.execute(f"CREATE TABLE paper.{LONG} (region_code VARCHAR, name_ko VARCHAR, value DOUBLE)")
    con.execute(f"COMMENT ON COLUMN paper.{LONG}.name_ko IS '지역 이름'")
    con.execute(f"INSERT INTO paper.{LONG} VALUES ('00', '전국', 1.5), ('11', '서울특별시', NULL), "
                "('22', '대구광역시', 3), ('26', '=SUM(A1)', 4), ('27', 'http://kosis.kr', 5)")
    con.execute(f"CREATE TABLE paper.{LONG}_2 (x INTEGER)")  # the same first 31 characters
    con.execute('CREATE TABLE paper."Dictionary" (x INTEGER)')  # the dictionary sheet's name, in other case
    tables = exported_tables(con)

    sheets = sheet_names(tables, max_rows=3)  # a header and 2 rows a sheet
    long_sheets = sheets[f"paper.{LONG}"]
    assert long_sheets == [LONG[:31], LONG[:29] + "~2", LONG[:29] + "~3"]  # 5 rows: 3 sheets
    every = [n for names in sheets.values() for n in names] + ["dictionary"]
    assert all(len(n) <= 31 for n in every)
    assert len({n.lower() for n in every}) == len(every)
    assert sheet_names(tables)[f"paper.{LONG}"] == [LONG[:31]]  # under Excel's limit: one sheet
    assert EXCEL_MAX_ROWS == 1_048_576

    written = write_workbook(con, "paper", tables, tmp_path, max_rows=3)
    book = openpyxl.load_workbook(written.path)
    assert book.sheetnames[0] == "dictionary"
    rows = [r for name in long_sheets for r in book[name].iter_rows(min_row=2, values_only=True)]
    assert rows == [("00", "전국", 1.5), ("11", "서울특별시", None), ("22", "대구광역시", 3),
                    ("26", "=SUM(A1)", 4), ("27", "http://kosis.kr", 5)]  # text stays text: no formula, no link
    assert book[long_sheets[1]]["B2"].data_type == "s"
    assert all(next(book[n].iter_rows(max_row=1, values_only=True)) == ("region_code", "name_ko", "value")
               for n in long_sheets)
    dictionary = list(book["dictionary"].iter_rows(min_row=2, values_only=True))
    name_ko = next(r for r in dictionary if r[0] == f"paper.{LONG}" and r[2] == "name_ko")
    assert name_ko[1] == ", ".join(long_sheets) and name_ko[5] == "지역 이름"
    assert f"stands for table paper.{LONG}" in name_ko[6] and "split over sheets" in name_ko[6]
    assert {r[0] for r in dictionary} == {t.name for t in tables}
    assert not list(tmp_path.glob("*.tmp"))
