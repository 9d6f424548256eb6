"""Tools for a user with a KOSIS key: find tables, inspect one, check the catalog, start a new entry.

    make kosis-search Q=사업체          # statisticsSearch: org, table id, name and periods of matching tables
    make kosis-meta TBL=DT_1B040A3 ORG=101   # getMeta: levels and codes, items and units, periods, footnotes
    make kosis-check                 # getMeta TBL, ITM and PRD for every KOSIS entry of the catalog
    make kosis-add TBL=DT_1C91 ORG=101   # a catalog entry skeleton for a table, from getMeta

All read KOSIS_API_KEY and KOSIS_BASE_URL from the environment, as every entry point does. Without a key they
stop at once (before anything heavy is imported) and say how to get one. `kosis-check` exits 1 if any entry does
not match what the service says (a table, item, level or code that does not exist, a role that matches
nothing), 2 if it cannot ask (no key, bad key, unreachable service).
"""

from __future__ import annotations

import argparse
import csv
import functools
import math
import os
import sys
from dataclasses import dataclass, field
from datetime import date

from assets.kosis_client import DEFAULT_KOSIS_BASE_URL, PRD_SE_KOREAN, KosisClient, KosisError, enumerate_periods
from schemas.kosis import ROLE_LEVELS, KosisTable
from schemas.regions import region_from_name

# Imported where used, after the key check: assets.kosis and pipelines.resources bring in Dagster (seconds).
EXIT_CANNOT_START = 2  # as pipelines.cli.EXIT_CANNOT_START
NO_KEY_HELP = """FAILED: no KOSIS_API_KEY in the environment: `make {target}` asks the live KOSIS service.
  Get a key (free): sign up at the KOSIS OpenAPI site, https://kosis.kr/openapi/ , log in and apply for an
  authentication key (활용신청 / 인증키 발급); the key is shown under your account once the application is approved.
  Set it in the shell you run make from:  export KOSIS_API_KEY='<your key>'   then run the command again.
  Without a key, `make run` and `make refresh` still work offline, from the bundled files and warehouse/data/inbox/."""
TARGETS = {"search": "kosis-search", "meta": "kosis-meta", "check": "kosis-check", "add": "kosis-add"}

SIDO_STATISTICAL = {"00", "11", "21", "22", "23", "24", "25", "26", "29", "31", "32", "33", "34", "35", "36", "37",
                    "38", "39"}


@dataclass
class TableMeta:
    """What getMeta says of a table: its name, items, classification levels (c1..) and periods."""

    name: str
    items: dict[str, tuple[str, str]]  # itm_id -> (name, unit)
    levels: list[dict[str, str]]  # [{code: name}] for c1, c2, ...
    level_names: list[str]
    periods: list[int]
    problems: list[str] = field(default_factory=list)

    def codes_at(self, level: str) -> dict[str, str]:
        if level == "itm":
            return {code: name for code, (name, _) in self.items.items()}
        index = int(level[1:]) - 1
        return self.levels[index] if index < len(self.levels) else {}


def fetch_meta(client, org_id: str, tbl_id: str, table: KosisTable | None = None) -> TableMeta:
    from assets.kosis import periods_from_meta

    tbl = client.get_meta(org_id, tbl_id, "TBL")
    name = str(tbl[0].get("TBL_NM", "")) if tbl else ""
    items: dict[str, tuple[str, str]] = {}
    by_sn: dict[int, dict[str, str]] = {}
    sn_names: dict[int, str] = {}
    for record in client.get_meta(org_id, tbl_id, "ITM"):
        code, code_name = str(record.get("ITM_ID", "")), str(record.get("ITM_NM", "")).strip()
        if str(record.get("OBJ_ID", "")).upper() == "ITEM":
            items[code] = (code_name, str(record.get("UNIT_NM", "")))
            continue
        try:
            sn = int(record.get("OBJ_ID_SN", "") or 0)
        except ValueError:
            continue
        by_sn.setdefault(sn, {})[code] = code_name
        sn_names[sn] = str(record.get("OBJ_NM", ""))
    order = sorted(by_sn)
    probe = table or KosisTable(id="new", org_id=org_id, tbl_id=tbl_id, tbl_nm=name, prd_se="Y", first_period="1900",
                                obj_levels=(), itm_id="ALL", unit="")
    periods = sorted(periods_from_meta(probe, client.get_meta(org_id, tbl_id, "PRD")))
    return TableMeta(name, items, [by_sn[sn] for sn in order], [sn_names[sn] for sn in order], periods)


def check_entry(table: KosisTable, meta: TableMeta, notes: list[str] | None = None) -> list[str]:
    """Every way the catalog entry disagrees with the service's metadata. Requested codes that the current
    metadata lacks while others of the same level exist are notes, not mismatches: a fixed code list spans
    code changes (Gangwon 42 until 2022, 51 from 2023)."""
    problems = []
    notes = notes if notes is not None else []
    if table.itm_id.upper() != "ALL":
        for code in table.itm_id.strip("+").split("+"):
            if code not in meta.items:
                problems.append(f"item {code} does not exist (items: {', '.join(meta.items) or 'none'})")
    if len(table.obj_levels) != len(meta.levels):
        problems.append(f"obj_levels has {len(table.obj_levels)} levels, the table has {len(meta.levels)}")
    for i, selection in enumerate(table.obj_levels[: len(meta.levels)]):
        if selection.upper() != "ALL":
            wanted = selection.strip("+").split("+")
            missing = [c for c in wanted if c not in meta.levels[i]]
            if len(missing) == len(wanted):
                problems.append(f"objL{i + 1}: none of the codes {', '.join(missing)} exists at level c{i + 1}")
            elif missing:
                notes.append(f"objL{i + 1} codes {', '.join(missing)} are not in the current metadata (codes of "
                             f"other years?); the others are")
    for role in table.roles:
        conditions = [r for r in table.code_roles if r.role == role]
        for level in dict.fromkeys(r.level for r in conditions):
            known = meta.codes_at(level)
            accepted = [r for r in conditions if r.level == level]
            found = [r for r in accepted if (r.code in known if r.match_by == "code" else r.code in known.values())]
            if not found:
                wanted = ", ".join(f"{r.code} ({r.match_by})" for r in accepted)
                problems.append(f"role {role}: nothing at {level} matches {wanted}")
            elif len(found) < len(accepted):  # alternatives (older spellings) or a part of a sum gone: look
                absent = ", ".join(r.code for r in accepted if r not in found)
                notes.append(f"role {role}: {absent} not found at {level} (an alternative spelling, or a part "
                             f"of the sum missing?)")
    problems += check_region_axis(table, meta, notes)
    if meta.periods and not [y for y in meta.periods if y >= int(table.first_period[:4])]:
        problems.append(f"no period from first_period {table.first_period} on (the service has "
                        f"{meta.periods[0]}-{meta.periods[-1]})")
    return problems


def _code_system(name: str) -> dict[str, str]:
    """code -> statistical sido code of one code system, as reference.region_code_map ships it."""
    from assets.source_files import SOURCES_DIR

    with open(SOURCES_DIR / "reference" / "region_code_map.csv", encoding="utf-8") as f:
        return {r["code"]: r["region_code"] for r in csv.DictReader(f) if r["code_system"] == name}


@functools.cache
def code_systems() -> dict[str, dict[str, str]]:
    return {name: _code_system(name) for name in ("kosis_sido", "admin")}


@dataclass(frozen=True)
class RegionAxis:
    level: str  # c1 .. c8
    code_system: str  # kosis_sido | admin | table
    region_codes: dict[str, str]  # for code_system table: code -> statistical sido code
    named: dict[str, str]  # every code at that level whose name is a region's -> that region


def region_axis(meta: TableMeta) -> RegionAxis | None:
    """The level whose codes are named as regions (the most such codes, at least three), and the code system
    its codes follow: the statistical or administrative sido codes if every region-named code maps so, else the
    table's own codes, mapped by their names (the SME ministry's 15142C504 named 대구 -> 22)."""
    best: tuple[int, int] | None = None
    for i, level in enumerate(meta.levels):
        named = sum(region_from_name(n) is not None for n in level.values())
        if named >= 3 and (best is None or named > best[1]):
            best = (i, named)
    if best is None:
        return None
    named = {c: r for c, n in meta.levels[best[0]].items() if (r := region_from_name(n)) is not None}
    for system, mapping in code_systems().items():
        if all(mapping.get(c) == r for c, r in named.items()):
            return RegionAxis(f"c{best[0] + 1}", system, {}, named)
    return RegionAxis(f"c{best[0] + 1}", "table", dict(sorted(named.items())), named)


def check_region_axis(table: KosisTable, meta: TableMeta, notes: list[str]) -> list[str]:
    """The entry's region axis against getMeta: the level exists and its codes are named as regions; every code
    there named as a region maps, through the entry's code system or its own region_codes, to that region."""
    index = int(table.region_level[1:]) - 1
    if index >= len(meta.levels):
        return [f"region_level {table.region_level}: the table has {len(meta.levels)} levels"]
    found = region_axis(meta)
    if found is None:
        notes.append("no level of the table is named by region (a national table?)")
        return []
    if found.level != table.region_level:
        return [f"region_level {table.region_level}, but the regions are on {found.level} "
                f"({', '.join(list(meta.levels[int(found.level[1:]) - 1].values())[:4])}, ...)"]
    mapping = table.region_codes if table.region_code_system == "table" else code_systems().get(
        table.region_code_system, {})
    problems = []
    for code, region in found.named.items():
        if code not in mapping:
            problems.append(f"region code {code} ({meta.levels[index][code]}) on {table.region_level} maps to no "
                            f"region in code system {table.region_code_system}: its rows would be quarantined")
        elif mapping[code] != region:
            problems.append(f"region code {code} ({meta.levels[index][code]}) maps to {mapping[code]}, but its name "
                            f"is region {region}'s")
    return problems


def full_load_cells(table: KosisTable, meta: TableMeta) -> int:
    items = len(meta.items) if table.itm_id.upper() == "ALL" else len(table.itm_id.strip("+").split("+"))
    sizes = [len(meta.levels[i]) if sel.upper() == "ALL" else len(sel.strip("+").split("+"))
             for i, sel in enumerate(table.obj_levels[: len(meta.levels)])]
    years = [y for y in meta.periods if y >= int(table.first_period[:4])]
    return items * math.prod(sizes) * len(years)


def describe(table: KosisTable, meta: TableMeta) -> list[str]:
    lines = [f"  name: {meta.name}",
             f"  periods: {meta.periods[0]}-{meta.periods[-1]} ({len(meta.periods)})" if meta.periods
             else "  periods: none",
             "  items: " + ", ".join(f"{c} {n} ({u})" for c, (n, u) in meta.items.items())]
    for i, (level, name) in enumerate(zip(meta.levels, meta.level_names, strict=True)):
        sample = ", ".join(f"{c} {n}" for c, n in list(level.items())[:8])
        lines.append(f"  c{i + 1} {name}: {len(level)} codes ({sample}{', ...' if len(level) > 8 else ''})")
    for role in table.roles:
        matched = []
        conditions = sorted((r for r in table.code_roles if r.role == role), key=lambda r: ROLE_LEVELS.index(r.level))
        for r in conditions:
            known = meta.codes_at(r.level)
            if r.match_by == "code" and r.code in known:
                matched.append(f"{r.level} {r.code} {known[r.code]}")
            elif r.match_by == "name":
                matched += [f"{r.level} {c} {n}" for c, n in known.items() if n == r.code]
        lines.append(f"  role {role}: {'; '.join(matched) or 'matches nothing'}")
    lines.append(f"  cells of a full load: {full_load_cells(table, meta):,}")
    return lines


def kosis_check(kosis) -> tuple[int, list[str]]:
    tables = [t for t in kosis.catalog() if t.is_kosis]
    lines, failed = [], 0
    with kosis.client() as client:
        for table in tables:
            head = f"{table.id} ({table.org_id}/{table.tbl_id})"
            try:
                meta = fetch_meta(client, table.org_id, table.tbl_id, table)
            except KosisError as exc:
                if exc.code in ("10", "11") or exc.code is None:
                    raise
                failed += 1
                lines.append(f"MISMATCH {head}: the service does not describe this table: {exc}")
                continue
            notes: list[str] = []
            problems = check_entry(table, meta, notes)
            failed += bool(problems)
            lines.append(f"{'MISMATCH' if problems else 'OK'} {head}")
            lines += [f"  ! {p}" for p in problems] + [f"  note: {n}" for n in notes] + describe(table, meta)
    lines.append(f"{len(tables) - failed} of {len(tables)} catalog entries match the service"
                 + ("" if not failed else f"; {failed} do not (fix the catalog before trusting it)"))
    return (1 if failed else 0), lines


CHECKED = "items, levels, periods and the region axis against getMeta"


def kosis_add(kosis, org_id: str, tbl_id: str) -> str:
    """A catalog entry skeleton from getMeta: the region axis and code system inferred from the codes' names (a
    table's own codes mapped by name), the units from the items. The skeleton goes through the same checks as
    make kosis-check, and its `verification` says what was checked, or `unchecked` when a check failed; never
    `live-checked`, which only a person who wrote the code_roles and ran make kosis-check may set."""
    import yaml

    with kosis.client() as client:
        meta = fetch_meta(client, org_id, tbl_id)
    axis = region_axis(meta)
    today = date.today().isoformat()
    entry = {
        "id": tbl_id.lower(),
        "source": "kosis",
        "org_id": org_id,
        "tbl_id": tbl_id,
        "tbl_nm": meta.name,
        "prd_se": "Y",
        "first_period": str(meta.periods[0]) if meta.periods else "",
        "obj_levels": ["ALL"] * len(meta.levels),
        "itm_id": "ALL",
        "unit": "; ".join(sorted({u for _, u in meta.items.values() if u})),
        "region_level": axis.level if axis else "c1",
        "region_code_system": axis.code_system if axis else "kosis_sido",
        **({"region_codes": axis.region_codes} if axis and axis.code_system == "table" else {}),
        "used_by": [],
        "verification": "unchecked",
        "evidence": [f"getMeta TBL, ITM and PRD of {org_id}/{tbl_id} on {today}"]
        + ([f"region axis {axis.level} ({meta.level_names[int(axis.level[1:]) - 1]}): {len(axis.named)} codes named "
            f"as regions; code system {axis.code_system}"] if axis else ["no level named by region"]),
        "code_roles": [],
    }
    skeleton = KosisTable(id=entry["id"], org_id=org_id, tbl_id=tbl_id, tbl_nm=meta.name, prd_se="Y",
                          first_period=entry["first_period"] or "1900", obj_levels=tuple(entry["obj_levels"]),
                          itm_id="ALL", unit=entry["unit"], region_level=entry["region_level"],
                          region_code_system=entry["region_code_system"],
                          region_codes=entry.get("region_codes", {}))
    check_notes: list[str] = []
    problems = check_entry(skeleton, meta, check_notes)
    if not problems:
        entry["verification"] = f"skeleton checked on {today}: {CHECKED}; no code_roles yet (not live-checked)"
    notes = [f"# {meta.name} ({org_id}/{tbl_id}): periods {meta.periods[0]}-{meta.periods[-1]}" if meta.periods
             else f"# {meta.name} ({org_id}/{tbl_id}): no periods"]
    notes.append("# items: " + ", ".join(f"{c} {n} ({u})" for c, (n, u) in meta.items.items()))
    for i, (level, name) in enumerate(zip(meta.levels, meta.level_names, strict=True)):
        notes.append(f"# c{i + 1} {name}: " + ", ".join(f"{c} {n}" for c, n in list(level.items())[:20])
                     + (", ..." if len(level) > 20 else ""))
    notes += [f"# check: ! {p}" for p in problems] + [f"# check note: {n}" for n in check_notes]
    notes.append("# add code_roles (role, itm_id, where / where_names), then run make kosis-check")
    return "\n".join(notes) + "\n" + yaml.safe_dump([entry], allow_unicode=True, sort_keys=False)


def _client_from_environment() -> KosisClient:
    """A client from KOSIS_API_KEY and KOSIS_BASE_URL, as the KOSIS resource would build it: search and meta read
    no catalog and write nothing, so they need neither the Dagster definitions nor the resources."""
    return KosisClient(os.environ.get("KOSIS_BASE_URL") or DEFAULT_KOSIS_BASE_URL, os.environ["KOSIS_API_KEY"])


def kosis_search(client: KosisClient, query: str, limit: int) -> list[str]:
    """One line per table found, tab-separated: org id, table id, table name, first-last period; then the count."""
    rows = client.search(query, result_count=limit)
    lines = [f"{r.get('ORG_ID', '')}\t{r.get('TBL_ID', '')}\t{' '.join(str(r.get('TBL_NM', '')).split())}\t"
             f"{r.get('STRT_PRD_DE', '')}-{r.get('END_PRD_DE', '')}" for r in rows]
    total = str(rows[0].get("STAT_DB_CNT", "")) if rows else "0"  # the number of matches in all (every row says)
    total = total if total.isdigit() else str(len(rows))
    shown = f"; the first {len(rows)} shown (N=... for more)" if int(total) > len(rows) else ""
    lines.append(f"{total} table(s) found for {query!r}{shown}")
    return lines


def _with_english(name: str, english: str | None) -> str:
    english = (english or "").strip()
    return f"{name} [{english}]" if english and english != name else name


def _period_lines(records: list[dict[str, str]]) -> list[str]:
    """getMeta PRD: one row per periodicity (PRD_SE a Korean label, STRT_PRD_DE/END_PRD_DE, months dotted)."""
    by_label = {label: se for se, labels in PRD_SE_KOREAN.items() for label in (se, *labels)}
    lines = []
    for record in records:
        label = str(record.get("PRD_SE", "")).strip()
        start, end = (str(record.get(k, "")).replace(".", "") for k in ("STRT_PRD_DE", "END_PRD_DE"))
        if not (start and end):
            if record.get("PRD_DE"):
                lines.append(f"  {label}: {record['PRD_DE']}")
            continue
        se = by_label.get(label, label)
        periods = enumerate_periods(se, start, end)
        count = f" ({len(periods)} periods)" if periods is not None else ""
        lines.append(f"  {label} ({se}): {start}-{end}{count}")
    return lines


def kosis_meta(client: KosisClient, org_id: str, tbl_id: str) -> list[str]:
    """What getMeta says of a table, for a person choosing codes: name (and English name), periods, items with
    units, every classification level (OBJ_NM) with all its codes and names, and the footnotes (type=CMMT)."""
    tbl = client.get_meta(org_id, tbl_id, "TBL")
    name = str(tbl[0].get("TBL_NM", "")) if tbl else ""
    lines = [f"{org_id}/{tbl_id} {_with_english(name, tbl[0].get('TBL_NM_ENG') if tbl else None)}", "periods:"]
    lines += _period_lines(client.get_meta(org_id, tbl_id, "PRD")) or ["  none"]
    items: list[str] = []
    levels: dict[int, tuple[str, list[str]]] = {}
    for record in client.get_meta(org_id, tbl_id, "ITM"):
        code = str(record.get("ITM_ID", ""))
        label = _with_english(str(record.get("ITM_NM", "")).strip(), record.get("ITM_NM_ENG"))
        if str(record.get("OBJ_ID", "")).upper() == "ITEM":
            # item rows name their unit UNIT_NM / UNIT_ENG_NM (meta_itm.json), not UNIT_NM_ENG as data rows do
            unit = _with_english(str(record.get("UNIT_NM", "")), record.get("UNIT_ENG_NM") or record.get("UNIT_NM_ENG"))
            items.append(f"  {code} {label}" + (f" ({unit})" if unit else ""))
            continue
        try:
            sn = int(record.get("OBJ_ID_SN", "") or 0)
        except ValueError:
            continue
        obj = _with_english(str(record.get("OBJ_NM", "")), record.get("OBJ_NM_ENG"))
        parent = f" (under {record['UP_ITM_ID']})" if record.get("UP_ITM_ID") else ""
        levels.setdefault(sn, (obj, []))[1].append(f"    {code} {label}{parent}")
    lines.append(f"items ({len(items)}):")
    lines += items
    for index, sn in enumerate(sorted(levels), 1):  # ranked: numbering that starts at 0 or 2 still gives c1, c2
        obj, codes = levels[sn]
        lines.append(f"c{index} {obj}: {len(codes)} codes (objL{index})")
        lines += codes
    notes = client.get_meta(org_id, tbl_id, "CMMT")
    lines.append(f"footnotes ({len(notes)}):" if notes else "footnotes: none")
    for note in notes:
        about = " ".join(str(note.get(k, "")).strip() for k in ("OBJ_NM", "ITM_ID", "ITM_NM") if note.get(k))
        head = f"  [{note.get('CMMT_NM', '')}{' ' + about if about else ''}] "
        text = [t.strip() for t in str(note.get("CMMT_DC", "")).strip().splitlines() if t.strip()]
        lines += [head + (text[0] if text else "")] + [" " * len(head) + t for t in text[1:]]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    search = sub.add_parser("search", help="find tables by name (statisticsSearch)")
    search.add_argument("--query", required=True)
    search.add_argument("--limit", type=int, default=50)
    meta = sub.add_parser("meta", help="a table's levels, codes, items, periods and footnotes (getMeta)")
    meta.add_argument("--tbl", required=True)
    meta.add_argument("--org", default="101")
    sub.add_parser("check", help="check every KOSIS catalog entry against getMeta")
    add = sub.add_parser("add", help="print a catalog entry skeleton for a table")
    add.add_argument("--tbl", required=True)
    add.add_argument("--org", default="101")
    args = parser.parse_args(argv)
    # Before anything heavy: without a key there is nothing to ask, and the user should hear so at once.
    if not os.environ.get("KOSIS_API_KEY"):
        print(NO_KEY_HELP.format(target=TARGETS[args.command]))
        return EXIT_CANNOT_START
    try:
        if args.command in ("search", "meta"):
            with _client_from_environment() as client:
                lines = (kosis_search(client, args.query, args.limit) if args.command == "search"
                         else kosis_meta(client, args.org, args.tbl))
            print("\n".join(lines))
            return 0
        from pipelines.definitions import defs
        from pipelines.resources import resolved_resources

        with resolved_resources(defs) as res:
            if args.command == "check":
                code, lines = kosis_check(res.kosis)
                print("\n".join(lines))
                return code
            print(kosis_add(res.kosis, args.org, args.tbl), end="")
            return 0
    except KosisError as exc:
        print(f"FAILED: {exc}")
        return EXIT_CANNOT_START


if __name__ == "__main__":
    sys.exit(main())
