"""The KOSIS catalog's entries (read from assets/sources/kosis/catalog.yaml by assets/source_files.py), the
KOSIS observation row and the SQL rules every KOSIS record is checked against."""

from __future__ import annotations

from dataclasses import dataclass, field

# PRD_SE as KOSIS labels it in records, for each prdSe the request used (annual comes back as "A").
PRD_SE_LABELS = {"Y": "A", "H": "H", "Q": "Q", "M": "M", "D": "D", "IR": "IR", "F": "F"}
# How getMeta PRD names each periodicity (a Korean label in the service's answers, codes in some clients).
PRD_SE_ALIASES = {"Y": {"Y", "A", "년"}, "H": {"H", "반기"}, "Q": {"Q", "분기"}, "M": {"M", "월"}, "D": {"D", "일"},
                  "IR": {"IR", "부정기"}, "F": {"F", "다년"}}
PERIOD_PATTERNS = {"A": r"^\d{4}$", "F": r"^\d{4}$", "H": r"^\d{4}0[12]$", "Q": r"^\d{4}0[1-4]$",
                   "M": r"^\d{4}(0[1-9]|1[0-2])$", "D": r"^\d{8}$", "IR": r"^\d{4,8}$"}
# What KOSIS prints in DT for a cell that has no number: kept as value_raw, value NULL.
NON_NUMBER_MARKERS = ("-", "x", "X", "...", "…", "", "(X)", "NA", "N/A", "*", "..")
# A DT that is a number: plain digits or well-formed thousands groups ("1,234,567"; never "1,2,3", which is
# ambiguous), an optional fraction and exponent. Shared by the staging SQL (RE2) and the check (Rust regex).
DT_NUMBER_PATTERN = r"^[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
LST_CHN_DE_PATTERN = r"^(?:\d{8}|\d{4}-\d{2}-\d{2})$"  # KOSIS writes both 20240101 and 2024-01-01


@dataclass(frozen=True)
class CodeRole:
    """One accepted value of one dimension of a role. A cell plays `role` when, for every dimension the
    role lists (`itm` for the item, `c1`..`c8` for classification levels), its code there (match_by
    `code`) or its Korean name (match_by `name`) is one of the accepted values; several values of one
    dimension are alternatives (manufacturing, under 300 employees: c2 = C and c3 one of six size classes)."""

    role: str
    level: str  # itm | c1 .. c8
    code: str  # the code, or the name when match_by is "name"
    match_by: str = "code"  # code | name
    itm_id: str = "*"  # the role's item as written in the catalog ("*": any item), for readers


ROLE_LEVELS = ("itm", *(f"c{i}" for i in range(1, 9)))
NAMED_LEVELS = ("itm", "c1", "c2", "c3")  # names kept in kosis.observations (itm_nm, c1_nm .. c3_nm)


# Where a catalog entry's numbers come from: the KOSIS service, or the paper's printed tables rewritten
# in KOSIS form (bundled offline files under their own identity, never a KOSIS table's).
SOURCE_KINDS = ("kosis", "paper")


@dataclass(frozen=True)
class KosisTable:
    id: str
    org_id: str
    tbl_id: str
    tbl_nm: str
    prd_se: str
    first_period: str
    obj_levels: tuple[str, ...]
    itm_id: str
    unit: str
    region_level: str = "c1"  # the axis (c1..c8) that holds the region
    region_code_system: str = "kosis_sido"  # kosis_sido | admin (reference.region_code_map) | table (region_codes)
    # The table's own region codes (region_code_system "table": e.g. the SME ministry's 전국..세종 on C2), each
    # mapped to the statistical sido code; built from getMeta's names by make kosis-add, checked by kosis-check.
    region_codes: dict[str, str] = field(default_factory=dict)
    used_by: tuple[str, ...] = ()
    source: str = "kosis"  # kosis | paper (see SOURCE_KINDS)
    series: str | None = None  # the concept several tables (base years) or the paper's form share
    priority: int = 100  # within a series, the lower number is preferred for a region-year
    base_year: str | None = None  # e.g. "2020" for GRDP in 2020 prices; a change of base breaks a series
    verification: str = "public-evidence"  # public-evidence | live-checked on YYYY-MM-DD
    evidence: tuple[str, ...] = ()
    bundled: str | None = None
    bundled_provenance: str | None = None
    code_roles: tuple[CodeRole, ...] = field(default_factory=tuple)
    predecessors: tuple[str, ...] = ()
    successor: str | None = None
    final_period: str | None = None  # for a discontinued base: the last period it was published for
    # What the table's concept means where tables of one series differ (e.g. which firms are SMEs): in words,
    # carried by the indicator's rows; a change of definition between years is a series break.
    definition: str | None = None
    # getMeta-style item names (ITM_ID -> ITM_NM): how make inbox-import places a portal download's item labels.
    item_names: dict[str, str] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return self.verification.startswith("live-checked")

    @property
    def is_kosis(self) -> bool:
        return self.source == "kosis"

    @property
    def series_id(self) -> str:
        return self.series or self.id

    @property
    def prd_se_label(self) -> str:
        return PRD_SE_LABELS.get(self.prd_se, self.prd_se)


    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.role for r in self.code_roles))


def _code_roles(table_id: str, entries: list[dict]) -> tuple[CodeRole, ...]:
    """`{role, itm_id, where: {c2: [C]}, where_names: {c3: [1-4명, ...], itm: [명목]}}`; the older one-code
    form `{itm_id, level, code, role}` is read too."""
    out: list[CodeRole] = []
    for r in entries:
        itm_id = str(r.get("itm_id", "*"))
        where = {k: v for k, v in (r.get("where") or {}).items()}
        if "level" in r:  # one code per row
            where = {r["level"]: [r["code"]]}
        if itm_id != "*":
            where.setdefault("itm", [itm_id])
        for match_by, conditions in (("code", where), ("name", r.get("where_names") or {})):
            for level, values in conditions.items():
                allowed = NAMED_LEVELS if match_by == "name" else ROLE_LEVELS
                if level not in allowed:
                    raise ValueError(f"{table_id}: role {r['role']}: cannot match {level} by {match_by}")
                for value in values if isinstance(values, list) else [values]:
                    out.append(CodeRole(r["role"], level, str(value), match_by, itm_id))
        if not any(c.role == r["role"] for c in out):
            raise ValueError(f"{table_id}: role {r['role']} selects nothing (give itm_id, where or where_names)")
    return tuple(out)


def parse_catalog(doc: dict, path: str = "the catalog") -> tuple[KosisTable, ...]:
    """The catalog's entries (the YAML document as read), checked; `path` names it in errors."""
    tables = []
    for entry in doc["tables"]:
        entry = dict(entry)
        legacy_verified = entry.pop("verified", None)  # older catalogs: a boolean
        if "verification" not in entry:
            entry["verification"] = legacy_verified if isinstance(legacy_verified, str) else "public-evidence"
        entry["obj_levels"] = tuple(entry["obj_levels"])
        entry["used_by"] = tuple(entry.get("used_by", ()))
        entry["evidence"] = tuple(entry.get("evidence", ()))
        entry["predecessors"] = tuple(entry.get("predecessors", ()))
        entry["code_roles"] = _code_roles(entry["id"], entry.get("code_roles", ()))
        entry["region_codes"] = {str(k): str(v) for k, v in (entry.get("region_codes") or {}).items()}
        entry["item_names"] = {str(k): str(v) for k, v in (entry.get("item_names") or {}).items()}
        for key in ("first_period", "base_year", "final_period", "org_id"):
            if entry.get(key) is not None:
                entry[key] = str(entry[key])
        table = KosisTable(**entry)
        if table.region_level not in ROLE_LEVELS[1:]:
            raise ValueError(f"{path}: {table.id}: region_level must be one of c1..c8, not {table.region_level!r}")
        if (table.region_code_system == "table") != bool(table.region_codes):
            raise ValueError(f"{path}: {table.id}: region_code_system table goes with the entry's own region_codes "
                             "(and region_codes with region_code_system table)")
        if table.source not in SOURCE_KINDS:
            raise ValueError(f"{path}: {table.id}: source must be one of {SOURCE_KINDS}, not {table.source!r}")
        if table.source == "paper" and not table.bundled:
            raise ValueError(f"{path}: {table.id}: a paper-sourced entry needs its bundled file")
        if table.source == "paper" and table.org_id.isdigit():
            raise ValueError(f"{path}: {table.id}: the paper's figures must not carry a KOSIS org id ({table.org_id})")
        tables.append(table)
    ids = [t.id for t in tables]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: duplicate table ids in {ids}")
    kosis_ids = [(t.org_id, t.tbl_id) for t in tables]
    if len(kosis_ids) != len(set(kosis_ids)):
        raise ValueError(f"{path}: two entries share an org/table id: {kosis_ids}")
    return tuple(tables)


# --- the KOSIS observation row: defined once here; the warehouse's table and comments, the staging SELECT, the
# merge and the Dagster column schema are all generated from it ------------------------------------------------

@dataclass(frozen=True)
class ObservationColumn:
    """One column of kosis.observations. ``staged_as``: its SQL over one KOSIS record as DuckDB reads it (the
    record's fields ORG_ID, ..., DT, and the archived file's name); None for the columns the merge sets."""

    name: str
    dtype: str
    description: str
    staged_as: str | None
    nullable: bool = True



WHITESPACE = " \t\n\r\f\v"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_trim(expression: str) -> str:
    """Leading and trailing whitespace of every kind trimmed (DuckDB's trim() alone removes only spaces)."""
    return f"trim({expression}, {_sql_text(WHITESPACE)})"


_DT = sql_trim("DT")
_DT_AS_NUMBER = f"TRY_CAST(replace({_DT}, ',', '') AS DOUBLE)"
_LEVELS = range(1, 9)
OBSERVATIONS_DESCRIPTION = ("One row per KOSIS cell per vintage: a revised value closes the old row (valid_to) and "
                            "adds a new one.")
OBSERVATION_ROW: tuple[ObservationColumn, ...] = (
    ObservationColumn("cell_key", "VARCHAR", "org|tbl|itm|c1..c8|prd_se|prd_de: one cell of one period",
                      "concat_ws('|', ORG_ID, TBL_ID, ITM_ID, " + ", ".join(f"coalesce(C{i}, '')" for i in _LEVELS)
                      + ", PRD_SE, PRD_DE)", nullable=False),
    ObservationColumn("org_id", "VARCHAR", "KOSIS organisation id (ORG_ID)", "ORG_ID", nullable=False),
    ObservationColumn("tbl_id", "VARCHAR", "KOSIS table id (TBL_ID)", "TBL_ID", nullable=False),
    ObservationColumn("itm_id", "VARCHAR", "KOSIS item id (ITM_ID)", "ITM_ID", nullable=False),
    ObservationColumn("c1", "VARCHAR", "Classification code, level 1 (C1; usually the region)", "C1"),
    *(ObservationColumn(f"c{i}", "VARCHAR", f"Classification code, level {i} (C{i}; NULL when the table has fewer "
                        "levels)", f"C{i}") for i in _LEVELS if i > 1),
    ObservationColumn("c1_nm", "VARCHAR", "Name of the level-1 code as KOSIS sends it (C1_NM)", "C1_NM"),
    ObservationColumn("c2_nm", "VARCHAR", "Name of the level-2 code as KOSIS sends it (C2_NM)", "C2_NM"),
    ObservationColumn("c3_nm", "VARCHAR", "Name of the level-3 code as KOSIS sends it (C3_NM; e.g. a size class)",
                      "C3_NM"),
    ObservationColumn("itm_nm", "VARCHAR", "Name of the item as KOSIS sends it (ITM_NM)", "ITM_NM"),
    ObservationColumn("prd_se", "VARCHAR", "Period type as KOSIS labels it (PRD_SE; annual data come back as A)",
                      "PRD_SE", nullable=False),
    ObservationColumn("prd_de", "VARCHAR", "Period as sent (PRD_DE: YYYY, YYYYMM, YYYYQQ, ...)", "PRD_DE",
                      nullable=False),
    ObservationColumn("year", "INTEGER", "Year of the period", "TRY_CAST(substr(PRD_DE, 1, 4) AS INTEGER)",
                      nullable=False),
    # Only a well-formed number is a value (never "1,2,3" -> 123), and only a finite one (NaN, Infinity, 1e309 and
    # 5,000-digit strings give NULL here, and the DT rule below quarantines them).
    ObservationColumn("value", "DOUBLE", "DT as a number; NULL when KOSIS prints a non-number such as - or x",
                      f"CASE WHEN regexp_full_match({_DT}, {_sql_text(DT_NUMBER_PATTERN)}) AND isfinite("
                      f"{_DT_AS_NUMBER}) THEN {_DT_AS_NUMBER} END"),
    ObservationColumn("value_raw", "VARCHAR", "DT exactly as received", "DT"),
    ObservationColumn("unit_nm", "VARCHAR", "Unit name as sent (UNIT_NM)", "UNIT_NM"),
    ObservationColumn("lst_chn_de", "VARCHAR", "Last-revision date as sent (LST_CHN_DE)", "LST_CHN_DE"),
    ObservationColumn("snapshot_sha256", "VARCHAR", "Snapshot (kosis.snapshots) this vintage was read from",
                      "parse_filename(filename, true)", nullable=False),
    ObservationColumn("valid_from", "TIMESTAMP", "When this vintage was loaded", None, nullable=False),
    ObservationColumn("valid_to", "TIMESTAMP", "When a revised value replaced it (NULL: current vintage)", None),
    # English labels, where the service sends them (real getList rows carry C1_NM_ENG and UNIT_NM_ENG, some
    # ITM_NM_ENG too; docs/kosis-evidence.md sections 2a and 9). Last, so that a warehouse created now and one
    # migrated (migration 10 adds them) have the same column order.
    ObservationColumn("itm_nm_eng", "VARCHAR", "English name of the item as KOSIS sends it (ITM_NM_ENG; NULL when "
                      "not sent)", "ITM_NM_ENG"),
    *(ObservationColumn(f"c{i}_nm_eng", "VARCHAR", f"English name of the level-{i} code as KOSIS sends it "
                        f"(C{i}_NM_ENG; NULL when not sent or the table has fewer levels)", f"C{i}_NM_ENG")
      for i in _LEVELS),
    ObservationColumn("unit_nm_eng", "VARCHAR", "English unit name as KOSIS sends it (UNIT_NM_ENG; NULL when not "
                      "sent)", "UNIT_NM_ENG"),
)
ENGLISH_FIELDS = ("ITM_NM_ENG", *(f"C{i}_NM_ENG" for i in _LEVELS), "UNIT_NM_ENG")


@dataclass(frozen=True)
class ObservationRule:
    """One validation rule of a staged KOSIS record, as SQL over the staging table (kosis_staged), so every rule
    runs where the rows are, over all of them at once. ``passes`` is a boolean expression; NULL counts as a
    failure. A row that breaks a rule is quarantined with ``column: error``."""

    column: str  # the column the rule reads, or "(row)" for a rule over several
    name: str
    error: str
    passes: str

    @property
    def reason(self) -> str:
        return f"{self.column}: {self.error}"


def _sql_list(values) -> str:
    return ", ".join(_sql_text(v) for v in values) or "NULL"


def _not_null(column: str) -> ObservationRule:
    return ObservationRule(column, f"{column}_not_null", "not_nullable (the record has no value here)",
                           f"{column} IS NOT NULL")


def _where_present(column: str, name: str, error: str, condition: str) -> ObservationRule:
    """A check of a value that is there (a missing one is the not-null rule's business, as in pandera)."""
    return ObservationRule(column, name, error, f"{column} IS NULL OR ({condition})")


def observation_rules(prd_se_label: str, region_level: str = "c1", region_code_system: str = "kosis_sido",
                      org_id: str | None = None, tbl_id: str | None = None,
                      itm_ids: tuple[str, ...] | None = None) -> tuple[ObservationRule, ...]:
    """The rules of one parsed KOSIS record (warehouse/kosis_load.py stages the records and runs them). Rows
    that fail are quarantined with the reason; the rest load.

    With ``org_id``/``tbl_id`` the record must belong to the requested table (an empty TBL_ID fails too);
    with ``itm_ids`` (only when specific items were requested, not ALL) its item must be one of them. The region
    is read on ``region_level``; staging tells whether its code maps to a region in the row's year
    (``region_mapped``, see warehouse/kosis_load.py), so an unmapped code is quarantined, never lost in a join."""
    rules = [_not_null("org_id"), _not_null("tbl_id"), _not_null("itm_id"), _not_null("c1"),
             *([_not_null(region_level)] if region_level != "c1" else []), _not_null("prd_se"),
             _not_null("prd_de"), _not_null("year")]
    if org_id is not None:
        rules.append(_where_present("org_id", "org_id_as_requested", f"ORG_ID differs from the requested {org_id}",
                                    f"org_id = {_sql_text(org_id)}"))
    if tbl_id is not None:
        rules.append(_where_present("tbl_id", "tbl_id_as_requested", f"TBL_ID differs from the requested {tbl_id}",
                                    f"tbl_id = {_sql_text(tbl_id)}"))
    if itm_ids is not None:
        rules.append(_where_present("itm_id", "itm_id_as_requested", "ITM_ID is not among the requested items",
                                    f"itm_id IN ({_sql_list(itm_ids)})"))
    # CASE, not OR: one regex per row instead of one per period type (4x faster over a million rows).
    period_ok = "CASE prd_se " + " ".join(f"WHEN {_sql_text(label)} THEN regexp_matches(prd_de, {_sql_text(pattern)})"
                                          for label, pattern in PERIOD_PATTERNS.items()) + " END"
    rules += [
        _where_present(region_level, "region_code_mapped",
                       f"region code unmapped: no region of code system {region_code_system} has this code in the "
                       "row's year (reference.region_code_map, or the catalog entry's region_codes)",
                       "region_mapped"),
        _where_present("prd_se", "prd_se_as_requested", f"PRD_SE differs from the requested {prd_se_label}",
                       f"prd_se = {_sql_text(prd_se_label)}"),
        _where_present("year", "year_in_range", "malformed period: its year is not between 1900 and 2100",
                       "year BETWEEN 1900 AND 2100"),
        # Staged: whether the period's year is one the load asked for (NULL when the year cannot be read).
        ObservationRule("in_request", "period_in_request", "period outside the request",
                        "in_request IS NULL OR in_request"),
        # `value` is the staging's reading of DT: a well-formed (DT_NUMBER_PATTERN) finite number, else NULL.
        ObservationRule("value_raw", "dt_is_number_or_marker",
                        "DT is neither a well-formed finite number (thousands groups of three digits) nor a known "
                        "non-number marker",
                        "CASE WHEN value IS NOT NULL THEN true ELSE " + sql_trim("coalesce(value_raw, '')") +
                        f" IN ({_sql_list(NON_NUMBER_MARKERS)}) END"),
        _where_present("lst_chn_de", "lst_chn_de_format", "LST_CHN_DE is neither YYYYMMDD nor YYYY-MM-DD",
                       f"regexp_matches(lst_chn_de, {_sql_text(LST_CHN_DE_PATTERN)})"),
        # Staged: the record's own "err" (a KOSIS error object among records is quarantined, never loaded).
        ObservationRule("err", "record_without_err", "the record carries a KOSIS err code", "err IS NULL"),
        ObservationRule("(row)", "period_format_matches_type",
                        "malformed period: PRD_DE does not have the format of its PRD_SE", period_ok),
        # One value per cell and period: every row of a key that occurs twice fails, as pandera's unique does.
        ObservationRule("cell_key", "one_value_per_cell", "another record has the same cell and period",
                        "count(*) OVER (PARTITION BY cell_key) = 1"),
    ]
    return tuple(rules)

