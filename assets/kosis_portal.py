"""KOSIS portal downloads (kosis.kr's 다운로드, CSV or XLSX) read into the getList records the loader validates.

The layouts read (docs/kosis-evidence.md section 7 cites each):
- wide: the classification names in the first columns ("행정구역(시군구)별"), then one column per period ("2022",
  "2023 년"); with several items, a second header row names the item of each column ("총인구수 (명)"), the
  period repeated over the items (in a CSV the first cell of that row repeats the header; in an XLSX it is empty,
  a merged cell);
- long: the classification names, a "시점" column, then one column per item;
- above the header, a title row and a unit row ("단위 : 명") may come first.

Labels are placed through names only: regions through reference.region_code_map and schemas.regions (or the
entry's own region_codes), items through the entry's getMeta-style `item_names`. A label that places nowhere
rejects the whole file with every such label; nothing is guessed, no LST_CHN_DE is invented.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from schemas.kosis import KosisTable
from schemas.regions import region_from_name

PORTAL_ORIGIN = "inbox-portal"
PORTAL_DIR = "portal"  # inbox/portal/<ORG_ID>_<TBL_ID>/<file as downloaded>
PORTAL_SUFFIXES = (".csv", ".xlsx")
PERIOD_HEADER = "시점"
ITEM_HEADERS = ("항목", "항목별")
UNIT_HEADERS = ("단위",)
_YEAR = re.compile(r"^(\d{4})(?:\s*년)?$")  # "2023", "2023 년", "2023년"
_UNIT_SUFFIX = re.compile(r"^(.*?)\s*[(\[]([^()\[\]]+)[)\]]$")  # "총인구수 (명)", "총인구수[명]"
_UNIT_ROW = re.compile(r"^단위\s*[:：]?\s*(.+)$")
_REGION_HEADER = ("행정구역", "시도", "지역")


class PortalFileError(ValueError):
    """A portal file that cannot be placed: the reason, and every label that maps to nothing."""

    def __init__(self, reason: str, unplaced: list[str] | None = None) -> None:
        self.reason, self.unplaced = reason, list(dict.fromkeys(unplaced or []))
        super().__init__(reason + (f"; labels not placed: {', '.join(self.unplaced)}" if self.unplaced else ""))


@dataclass
class PortalRead:
    records: list[dict[str, str]]
    sha256: str
    layout: str  # wide | long
    encoding: str  # utf-8-sig | utf-8 | cp949 | xlsx
    skipped_items: list[str] = field(default_factory=list)  # known items the catalog entry does not request

    @property
    def years(self) -> list[int]:
        return sorted({int(r["PRD_DE"][:4]) for r in self.records})


def is_portal_body(body: bytes) -> bool:
    """Whether an archived body is a portal download rather than a getList JSON body."""
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return body.startswith(b"PK\x03\x04") or not head.startswith((b"[", b"{"))


def decode_csv(body: bytes) -> tuple[str, str]:
    """The text and its encoding: a UTF-8 BOM, else UTF-8, else CP949 (what the portal writes by default)."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8"), "utf-8-sig"
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp949"), "cp949"
    except UnicodeDecodeError as exc:
        raise PortalFileError(f"neither UTF-8 nor CP949 text ({exc})") from None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an XLSX number cell 2023.0 or 1234.0 as the portal shows it
    return str(value).strip()


def read_grid(body: bytes) -> tuple[list[list[str]], str]:
    """The file's rows as text cells (trailing empty cells and empty rows dropped), and the encoding."""
    if body.startswith(b"PK\x03\x04"):
        import openpyxl  # only for XLSX files

        try:
            book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            raise PortalFileError(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
        rows = [[_cell(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        encoding = "xlsx"
    else:
        text, encoding = decode_csv(body)
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    grid = []
    for row in rows:
        while row and not row[-1]:
            row = row[:-1]
        if row:
            grid.append(row)
    return grid, encoding


def year_of(label: str) -> int | None:
    match = _YEAR.match(label.strip())
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class LabelMaps:
    regions: dict[str, str]  # region code (statistical) -> the table's code on its region axis
    items: dict[str, str]  # normalized ITM_NM -> ITM_ID
    item_names: dict[str, str]  # ITM_ID -> ITM_NM


def _normal(label: str) -> str:
    return "".join(label.split())


def label_maps(table: KosisTable, region_code_map: list[dict[str, str]]) -> LabelMaps:
    """The names this table's labels are placed by. A region's code on the table's axis: the entry's own
    region_codes, else reference.region_code_map for its code system; where two codes map to one region (admin
    42 and 51 for Gangwon) the later row wins, the code the service serves every year under (evidence 2b)."""
    if table.region_code_system == "table":
        pairs = list(table.region_codes.items())
    else:
        pairs = [(r["code"], r["region_code"]) for r in region_code_map if r["code_system"] == table.region_code_system]
    regions: dict[str, str] = {}
    for code, region in pairs:
        regions[region] = code
    return LabelMaps(regions, {_normal(n): i for i, n in table.item_names.items()}, dict(table.item_names))


def requested_items(table: KosisTable) -> set[str] | None:
    items = {c for c in re.split(r"[+\s]", table.itm_id) if c}
    return None if not items or "ALL" in {c.upper() for c in items} else items


def _item(label: str, maps: LabelMaps) -> tuple[str | None, str]:
    """(ITM_ID or None, unit) of an item label, with or without the unit the portal appends."""
    if (found := maps.items.get(_normal(label))) is not None:
        return found, ""
    match = _UNIT_SUFFIX.match(label)
    if match and (found := maps.items.get(_normal(match.group(1)))) is not None:
        return found, match.group(2).strip()
    return None, ""


def parse_portal(body: bytes, table: KosisTable, region_code_map: list[dict[str, str]]) -> PortalRead:
    """The getList records of a portal download for one catalog entry, or PortalFileError."""
    if table.prd_se != "Y":
        raise PortalFileError(f"only annual tables are read from portal files; {table.tbl_id} is {table.prd_se}")
    grid, encoding = read_grid(body)
    maps = label_maps(table, region_code_map)
    header_at = next((i for i, row in enumerate(grid)
                      if PERIOD_HEADER in row[1:] or any(year_of(c) for c in row[1:])), None)
    if header_at is None:
        raise PortalFileError("no header row: no cell names a period (e.g. 2023, '2023 년') or 시점")
    unit, title = "", ""
    for row in grid[:header_at]:  # a title row and a unit row above the header
        match = _UNIT_ROW.match(row[0])
        if match:
            unit = match.group(1).strip()
        elif not title:
            title = row[0]
    header = grid[header_at]
    unplaced: list[str] = []
    cells: list[tuple[list[str], str, str, str]] = []  # (classification labels, year label, item label, value)
    if PERIOD_HEADER in header:
        layout = "long"
        at = header.index(PERIOD_HEADER)
        class_headers, item_labels = header[:at], header[at + 1:]
        for row in grid[header_at + 1:]:
            row = row + [""] * (len(header) - len(row))
            cells += [(row[:at], row[at], label, row[at + 1 + j]) for j, label in enumerate(item_labels)]
    else:
        layout = "wide"
        first = next(j for j, c in enumerate(header) if j > 0 and year_of(c))
        class_headers = header[:first]
        periods, last = [], ""
        for c in header[first:]:  # an XLSX merges a period over its items: the cells after the first are empty
            last = c or last
            periods.append(last)
        body_at = header_at + 1
        item_row = None
        if body_at < len(grid):
            candidate = grid[body_at]
            under = candidate[first:]
            if under and all(c and year_of(c) is None and not _is_value(c) for c in under) and \
                    (not candidate[0] or candidate[0] == header[0]):
                item_row, body_at = under + [""] * (len(periods) - len(under)), body_at + 1
        for row in grid[body_at:]:
            row = row + [""] * (first + len(periods) - len(row))
            cells += [(row[:first], periods[j], item_row[j] if item_row else "", row[first + j])
                      for j in range(len(periods))]
    # Which classification column is which: 단위 (a unit per row), 항목 (items), the region axis.
    roles = []
    for j, name in enumerate(class_headers):
        if name in UNIT_HEADERS:
            roles.append("unit")
        elif name in ITEM_HEADERS:
            roles.append("item")
        elif any(name.startswith(h) for h in _REGION_HEADER) or all(
                region_from_name(c[0][j]) is not None for c in cells if c[0][j]):
            roles.append("region")
        else:
            roles.append("other")
    if "region" not in roles:
        raise PortalFileError(f"no column holds the regions of {table.tbl_id}'s region axis ({table.region_level}); "
                              f"classification columns: {', '.join(class_headers) or 'none'}")
    for j, role in enumerate(roles):
        if role == "other":
            unplaced += sorted({c[0][j] for c in cells if c[0][j]})
    wanted = requested_items(table)
    single = None
    if layout == "wide" and not any(c[2] for c in cells) and "item" not in roles:
        # One item and no item row (evidence: a single-item download): the entry's one requested item.
        candidates = sorted(wanted) if wanted else sorted(maps.item_names)
        if len(candidates) != 1:
            raise PortalFileError(f"the file names no item and {table.tbl_id}'s entry has {len(candidates)} items "
                                  f"({', '.join(candidates)}): download it with the item row")
        single = candidates[0]
    records, skipped = [], []
    region_j = roles.index("region")
    for classes, year_label, item_label, value in cells:
        region_label = classes[region_j]
        if not region_label:
            continue
        if "item" in roles:
            item_label = classes[roles.index("item")]
        row_unit = classes[roles.index("unit")] if "unit" in roles else ""
        year = year_of(year_label)
        if year is None:
            unplaced.append(year_label)
            continue
        if single is not None:
            itm_id, label_unit = single, ""
        else:
            itm_id, label_unit = _item(item_label, maps)
        if itm_id is None:
            unplaced.append(item_label or "(no item label)")
            continue
        if wanted is not None and itm_id not in wanted:
            skipped.append(item_label)
            continue
        region = region_from_name(region_label)
        code = maps.regions.get(region) if region is not None else None
        if code is None:
            unplaced.append(region_label)
            continue
        level = table.region_level.upper()
        records.append({"ORG_ID": table.org_id, "TBL_ID": table.tbl_id, **({"TBL_NM": title} if title else {}),
                        "ITM_ID": itm_id, "ITM_NM": maps.item_names.get(itm_id, item_label),
                        level: code, f"{level}_NM": region_label, "PRD_SE": table.prd_se_label,
                        "PRD_DE": str(year), "DT": value.strip(), "UNIT_NM": row_unit or label_unit or unit})
    if unplaced:
        raise PortalFileError(f"labels of the file match no code of {table.org_id}/{table.tbl_id} (regions through "
                              f"reference.region_code_map, items through the entry's item_names)", unplaced)
    if not records:
        raise PortalFileError(f"no value of an item {table.tbl_id}'s entry requests"
                              + (f" (items in the file: {', '.join(dict.fromkeys(skipped))})" if skipped else ""))
    return PortalRead(records, hashlib.sha256(body).hexdigest(), layout, encoding, list(dict.fromkeys(skipped)))


def _is_value(cell: str) -> bool:
    return bool(re.fullmatch(r"[+-]?[\d,]*\.?\d+", cell)) or cell in ("-", "X", "x", "...", "…", "*")


def read_region_code_map(source_root: str | Path | None = None) -> list[dict[str, str]]:
    from assets.source_files import SOURCES_DIR

    path = Path(source_root or SOURCES_DIR) / "reference" / "region_code_map.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def portal_dir_name(table: KosisTable) -> str:
    return f"{table.org_id}_{table.tbl_id}"


def portal_files(inbox: Path, table: KosisTable) -> list[Path]:
    folder = inbox / PORTAL_DIR / portal_dir_name(table)
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PORTAL_SUFFIXES) if folder.is_dir() else []
