"""`make inbox-import`: KOSIS portal downloads (CSV, XLSX) loaded without a key; and a refresh and rollback a user
can follow (snapshot ids printed, a rolled-back file named, a corrected file loaded).

The files are laid out as the portal lays them out, after the saved downloads cited in docs/kosis-evidence.md
section 7: the wide layout of Afcoo/flutter_graph_infovis assets/시군구별_출산율_2000_2021.csv (the classification
header "시군구별" repeated over a second row of item names, the period repeated per item) and of
Afcoo/infovis_web assets/assets/data2.csv (one item, no item row); item labels with the unit appended,
"총인구수 (명)" (index id 40744402889, an XLSX read with pandas); the long layout "행정구역별","시점", one column per
item (the R scripts reading 04_인구동향.csv). GUESSES, said so in the docs too: the title row and the "단위 : 명" row
above the header (no saved file showed one), the XLSX's empty first cell of the item row (inferred from the pandas
code, not seen in a file), and CP949 as the portal's default encoding (inferred from encoding='cp949'/'euc-kr' in
every script that reads a download). The values are made up for the tests, not KOSIS figures.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl

from tests.conftest import Built, make, query

POP_2022 = {"전국": "900000", "서울특별시": "300000", "대구광역시": "120000", "강원특별자치도": "80000"}
POP_2023 = {"전국": "910000", "서울특별시": "301000", "대구광역시": "121000", "강원특별자치도": "81000"}


def wide_rows(title: bool = True) -> list[list[str]]:
    """Two years x three items, as the portal's 다운로드 lays out a table: title and unit rows (a guess), the
    header, the item row, then one row per region."""
    items = ["총인구수 (명)", "남자인구수 (명)", "여자인구수 (명)"]
    rows = [["행정구역(시군구)별 성별 인구수"], ["단위 : 명"]] if title else []
    rows.append(["행정구역(시군구)별", *[y for y in ("2022", "2023") for _ in items]])
    rows.append(["행정구역(시군구)별", *items, *items])
    for region in POP_2022:
        a, b = int(POP_2022[region]), int(POP_2023[region])
        rows.append([region, str(a), str(a // 2), str(a - a // 2), str(b), str(b // 2), str(b - b // 2)])
    return rows


def write_csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    text = "\r\n".join(",".join(f'"{c}"' for c in row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    """The XLSX download: numbers as number cells; the item row's first cell empty (merged with the header)."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        if row[0] == "행정구역(시군구)별" and not row[1].isdigit():
            row = ["", *row[1:]]
        sheet.append([int(c) if c.isdigit() else c for c in row])
    book.save(path)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def observations(db: Path, year: int) -> list[tuple]:
    return query(db, "SELECT c1, value FROM kosis.observations_current WHERE tbl_id = 'DT_1B040A3' AND year = ? "
                     "ORDER BY c1", [year])


def test_portal_csv_and_xlsx_import_and_load(built_copy: Built, tmp_path: Path) -> None:
    db = built_copy.data / "warehouse.duckdb"
    cp949 = write_csv(tmp_path / "행정구역_시군구_별_성별_인구수_20260101.csv", wide_rows(), "cp949")
    proc = make("inbox-import", built_copy.root, extra=(f"FILE={cp949}", "TBL=DT_1B040A3", "ORG=101"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8 records, wide layout, cp949; years 2022, 2023; items T20 총인구수; 4 regions" in proc.stdout
    assert "not loaded, items the catalog entry does not request: 남자인구수 (명), 여자인구수 (명)" in proc.stdout
    placed = built_copy.data / "inbox" / "portal" / "101_DT_1B040A3" / cp949.name
    assert placed.read_bytes() == cp949.read_bytes()

    refresh = make("refresh", built_copy.root)
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    assert "population_by_sido (KOSIS 101/DT_1B040A3): new periods [2022, 2023]" in refresh.stdout
    assert f"  {sha(cp949)[:12]} inbox-portal population_by_sido inbox-portal:portal/101_DT_1B040A3/{cp949.name}: " \
           f"8 records loaded, 0 quarantined" in refresh.stdout
    assert query(db, "SELECT origin, n_records, n_loaded, request FROM kosis.snapshots WHERE snapshot_sha256 = ?",
                 [sha(cp949)]) == [("inbox-portal", 8, 8, f"inbox-portal:portal/101_DT_1B040A3/{cp949.name}")]
    # Daegu 대구광역시 -> administrative 27, 강원특별자치도 -> 51 (the code the service serves), no LST_CHN_DE invented
    assert observations(db, 2023) == [("00", 910000.0), ("11", 301000.0), ("27", 121000.0), ("51", 81000.0)]
    assert query(db, "SELECT count(*) FROM kosis.observations WHERE tbl_id = 'DT_1B040A3' AND lst_chn_de IS NOT NULL "
                     "AND lst_chn_de <> ''") == [(0,)]
    assert query(db, "SELECT population FROM indicators.population WHERE region_code = '22' AND year = 2023") == [
        (121000,)]
    (archived,) = query(db, "SELECT path FROM kosis.snapshots WHERE snapshot_sha256 = ?", [sha(cp949)])[0]
    assert Path(archived).read_bytes() == cp949.read_bytes() and archived.endswith(".csv")

    # The same table as an XLSX (2024 relabelled) and as a UTF-8-BOM CSV in the long layout (2021)
    xlsx_rows = [[c.replace("2023", "2024") for c in row] for row in wide_rows(title=False)]
    xlsx = write_xlsx(tmp_path / "population.xlsx", xlsx_rows)
    long_rows = [["행정구역별", "시점", "총인구수 (명)"]] + [[r, "2021", v] for r, v in POP_2022.items()]
    bom = write_csv(tmp_path / "population_long.csv", long_rows, "utf-8-sig")
    for path, layout in ((xlsx, "wide layout, xlsx"), (bom, "long layout, utf-8-sig")):
        proc = make("inbox-import", built_copy.root, extra=(f"FILE={path}", "TBL=DT_1B040A3"))
        assert proc.returncode == 0 and layout in proc.stdout, proc.stdout + proc.stderr
    refresh = make("refresh", built_copy.root)
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    held = query(db, "SELECT snapshot_sha256, n_records, n_loaded, n_skipped, request FROM kosis.snapshots "
                     "WHERE origin = 'inbox-portal' ORDER BY fetched_at")
    by_sha = {row[0]: row[1:] for row in held}
    assert by_sha.get(sha(bom)) == (4, 4, 0, "inbox-portal:portal/101_DT_1B040A3/population_long.csv"), held
    assert by_sha.get(sha(xlsx), (None,))[0] == 8, held
    assert observations(db, 2021)[2] == ("27", 120000.0)
    assert observations(db, 2024)[2] == ("27", 121000.0)


def test_an_unplaceable_portal_file_is_rejected_with_its_labels_and_nothing_is_written(built_copy: Built,
                                                                                       tmp_path: Path) -> None:
    db = built_copy.data / "warehouse.duckdb"
    rows = wide_rows()
    rows[5][0] = "전남광주통합특별시"  # a 2026 region the reference tables do not hold (evidence 2a)
    rows[3] = [rows[3][0], "총인구수 (명)", "외국인수 (명)", "여자인구수 (명)"] + rows[3][4:]
    bad = write_csv(tmp_path / "bad.csv", rows, "cp949")
    before = query(db, "SELECT count(*) FROM kosis.snapshots")
    proc = make("inbox-import", built_copy.root, extra=(f"FILE={bad}", "TBL=DT_1B040A3"))
    assert proc.returncode == 2
    assert "REJECTED bad.csv for 101/DT_1B040A3: labels of the file match no code" in proc.stdout
    assert "nothing was written" in proc.stdout
    (labels,) = [line for line in proc.stdout.splitlines() if "labels not placed" in line]
    assert "외국인수 (명)" in labels and "전남광주통합특별시" in labels and "대구광역시" not in labels
    assert not (built_copy.data / "inbox" / "portal").exists()
    assert query(db, "SELECT count(*) FROM kosis.snapshots") == before


def test_refresh_rollback_and_a_corrected_file_for_the_same_year(built_copy: Built, tmp_path: Path) -> None:
    db = built_copy.data / "warehouse.duckdb"
    inbox = built_copy.data / "inbox"

    def drop(daegu: str, year: int = 2012) -> Path:
        records = [{"ORG_ID": "101", "TBL_ID": "DT_1B040A3", "ITM_ID": "T20", "ITM_NM": "총인구수", "C1": code,
                    "C1_NM": name, "PRD_SE": "A", "PRD_DE": str(year), "DT": value, "UNIT_NM": "명",
                    "LST_CHN_DE": f"{year + 1}-01-15"}
                   for code, name, value in (("00", "전국", "900000"), ("27", "대구광역시", daegu))]
        path = inbox / f"population_{year}.json"
        path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        return path

    # 2011 first: an indicator whose only load is rolled back would come out empty, which its check refuses
    drop("119000", 2011)
    assert make("refresh", built_copy.root).returncode == 0
    first = drop("999")  # a typo: Daegu's 2012 figure
    bad_sha = sha(first)
    refresh = make("refresh", built_copy.root)
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    assert f"  {bad_sha[:12]} inbox population_by_sido inbox:population_2012.json: 2 records loaded" in refresh.stdout

    rollback = make("rollback", built_copy.root, extra=(f"SNAPSHOT={bad_sha[:12]}", "REASON=typo"))
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert observations(db, 2012) == []

    # the very same file again: named, with why, and not loaded
    again = make("refresh", built_copy.root)
    assert again.returncode == 0, again.stdout + again.stderr
    (line,) = [ln for ln in again.stdout.splitlines() if "not loaded" in ln]
    assert line.strip().startswith(f"inbox/population_2012.json: not loaded: snapshot {bad_sha[:12]} with this "
                                   f"content was rolled back on ")
    assert observations(db, 2012) == []

    # a corrected file for the same year, same LST_CHN_DE: its content is new, so it loads as a revision
    corrected = drop("120000")
    assert sha(corrected) != bad_sha
    fixed = make("refresh", built_copy.root)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "revised periods [2012] (a file with content the warehouse has not loaded provides these periods)" \
        in fixed.stdout
    assert f"  {sha(corrected)[:12]} inbox population_by_sido inbox:population_2012.json" in fixed.stdout
    assert observations(db, 2012) == [("00", 900000.0), ("27", 120000.0)]
    assert query(db, "SELECT population FROM indicators.population WHERE region_code = '22' AND year = 2012") == [
        (120000,)]
    assert "was rolled back on" not in fixed.stdout  # the corrected file is not the rolled-back one
