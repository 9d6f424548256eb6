"""The KOSIS catalog (assets/sources/kosis/catalog.yaml) and the pandera schema of a parsed observation."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandera.polars as pa
import polars as pl
import yaml
from pandera.api.polars.types import PolarsData

from schemas.registry import SOURCES_DIR

CATALOG_PATH = SOURCES_DIR / "kosis" / "catalog.yaml"

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
    region_level: str = "c1"
    region_code_system: str = "kosis_sido"
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

    def bundled_path(self, root: Path | str) -> Path | None:
        return Path(root) / "kosis" / self.bundled if self.bundled else None

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


def load_catalog(path: Path | str = CATALOG_PATH) -> tuple[KosisTable, ...]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
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
        for key in ("first_period", "base_year", "final_period", "org_id"):
            if entry.get(key) is not None:
                entry[key] = str(entry[key])
        table = KosisTable(**entry)
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


def _is_number_or_marker(data: PolarsData) -> pl.LazyFrame:
    """A known marker, or a well-formed number (DT_NUMBER_PATTERN) that is finite as a double: NaN, Infinity,
    1e309 and 5,000-digit strings are quarantined, never stored."""
    stripped = pl.col(data.key).fill_null("").str.strip_chars()
    number = stripped.str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)
    well_formed = stripped.str.contains(DT_NUMBER_PATTERN) & number.is_finite().fill_null(False)
    return data.lazyframe.select(well_formed | stripped.is_in(list(NON_NUMBER_MARKERS)))


def _is_null(data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col(data.key).is_null())


def _not_false(data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col(data.key).fill_null(True))


def _period_matches_type(data: PolarsData) -> pl.LazyFrame:
    ok = pl.lit(False)
    for label, pattern in PERIOD_PATTERNS.items():
        ok = ok | ((pl.col("prd_se") == label) & pl.col("prd_de").str.contains(pattern))
    return data.lazyframe.select(ok.fill_null(False))


@cache
def observation_schema(prd_se_label: str, region_codes: tuple[str, ...], org_id: str | None = None,
                       tbl_id: str | None = None, itm_ids: tuple[str, ...] | None = None) -> pa.DataFrameSchema:
    """One parsed KOSIS record per row (pandera's polars backend: a million rows validate in well under a
    second). Rows that fail are quarantined with the reason (the check's error text); the rest load.

    With ``org_id``/``tbl_id`` the record must belong to the requested table (an empty TBL_ID fails too);
    with ``itm_ids`` (only when specific items were requested, not ALL) its item must be one of them."""
    text = {"dtype": pl.Utf8, "coerce": False}
    columns = {
        "org_id": pa.Column(**text, nullable=False, checks=[] if org_id is None else pa.Check.eq(
            org_id, name="org_id_as_requested", error=f"ORG_ID differs from the requested {org_id}")),
        "tbl_id": pa.Column(**text, nullable=False, checks=[] if tbl_id is None else pa.Check.eq(
            tbl_id, name="tbl_id_as_requested", error=f"TBL_ID differs from the requested {tbl_id}")),
        "itm_id": pa.Column(**text, nullable=False, checks=[] if itm_ids is None else pa.Check.isin(
            list(itm_ids), name="itm_id_as_requested", error="ITM_ID is not among the requested items")),
        "c1": pa.Column(**text, nullable=False, checks=pa.Check.isin(list(region_codes), name="c1_known_region",
                                                                     error="C1 is not in reference.region_code_map")),
        **{f"c{i}": pa.Column(**text, nullable=True) for i in range(2, 9)},
        "prd_se": pa.Column(**text, checks=pa.Check.eq(prd_se_label, name="prd_se_as_requested",
                                                       error=f"PRD_SE differs from the requested {prd_se_label}")),
        "prd_de": pa.Column(**text, nullable=False),
        "year": pa.Column(pl.Int32, nullable=False, checks=pa.Check.in_range(
            1900, 2100, error="malformed period: its year is not between 1900 and 2100")),
        # Staged: whether the period's year is one the load asked for (NULL when the year cannot be read).
        "in_request": pa.Column(pl.Boolean, nullable=True, checks=pa.Check(
            _not_false, name="period_in_request", error="period outside the request")),
        "value": pa.Column(pl.Float64, nullable=True),
        "value_raw": pa.Column(**text, nullable=True,
                               checks=pa.Check(_is_number_or_marker, name="dt_is_number_or_marker",
                                               error="DT is neither a well-formed finite number (thousands groups "
                                               "of three digits) nor a known non-number marker")),
        "lst_chn_de": pa.Column(**text, nullable=True, checks=pa.Check.str_matches(
            LST_CHN_DE_PATTERN, error="LST_CHN_DE is neither YYYYMMDD nor YYYY-MM-DD")),
        # Staged: the record's own "err" (a KOSIS error object among records is quarantined, never loaded).
        "err": pa.Column(**text, nullable=True, checks=pa.Check(
            _is_null, name="record_without_err", error="the record carries a KOSIS err code")),
    }
    return pa.DataFrameSchema(
        columns,
        checks=[pa.Check(_period_matches_type, name="period_format_matches_type",
                         error="malformed period: PRD_DE does not have the format of its PRD_SE")],
        strict=False,
        name="kosis.observation",
    )


# One value per cell and period, checked on the composite key alone (so it can span every chunk).
CELL_KEY_SCHEMA = pa.DataFrameSchema(
    {"cell_key": pa.Column(pl.Utf8, unique=True, nullable=False,
                           description="org|tbl|itm|c1..c8|prd_se|prd_de")},
    name="kosis.observation.one_value_per_cell",
)
