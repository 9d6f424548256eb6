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
PERIOD_PATTERNS = {"A": r"^\d{4}$", "F": r"^\d{4}$", "H": r"^\d{4}0[12]$", "Q": r"^\d{4}0[1-4]$",
                   "M": r"^\d{4}(0[1-9]|1[0-2])$", "D": r"^\d{8}$", "IR": r"^\d{4,8}$"}
# What KOSIS prints in DT for a cell that has no number: kept as value_raw, value NULL.
NON_NUMBER_MARKERS = ("-", "x", "X", "...", "…", "", "(X)", "NA", "N/A", "*", "..")


@dataclass(frozen=True)
class CodeRole:
    itm_id: str
    level: str
    code: str
    role: str


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
    verified: bool = False
    bundled: str | None = None
    bundled_provenance: str | None = None
    code_roles: tuple[CodeRole, ...] = field(default_factory=tuple)
    predecessors: tuple[str, ...] = ()
    successor: str | None = None

    @property
    def prd_se_label(self) -> str:
        return PRD_SE_LABELS.get(self.prd_se, self.prd_se)

    def bundled_path(self, root: Path | str) -> Path | None:
        return Path(root) / "kosis" / self.bundled if self.bundled else None


def load_catalog(path: Path | str = CATALOG_PATH) -> tuple[KosisTable, ...]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    tables = []
    for entry in doc["tables"]:
        entry = dict(entry)
        entry["obj_levels"] = tuple(entry["obj_levels"])
        entry["used_by"] = tuple(entry.get("used_by", ()))
        entry["predecessors"] = tuple(entry.get("predecessors", ()))
        entry["code_roles"] = tuple(CodeRole(**r) for r in entry.get("code_roles", ()))
        tables.append(KosisTable(**entry))
    ids = [t.id for t in tables]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: duplicate table ids in {ids}")
    return tuple(tables)


def _is_number_or_marker(data: PolarsData) -> pl.LazyFrame:
    raw = pl.col(data.key)
    cleaned = raw.fill_null("").str.replace_all(",", "", literal=True).str.strip_chars()
    return data.lazyframe.select(cleaned.cast(pl.Float64, strict=False).is_not_null()
                                 | cleaned.is_in(list(NON_NUMBER_MARKERS)))


def _period_matches_type(data: PolarsData) -> pl.LazyFrame:
    ok = pl.lit(False)
    for label, pattern in PERIOD_PATTERNS.items():
        ok = ok | ((pl.col("prd_se") == label) & pl.col("prd_de").str.contains(pattern))
    return data.lazyframe.select(ok.fill_null(False))


@cache
def observation_schema(prd_se_label: str, region_codes: tuple[str, ...]) -> pa.DataFrameSchema:
    """One parsed KOSIS record per row (pandera's polars backend: a million rows validate in well under a
    second). Rows that fail are quarantined; the rest load."""
    text = {"dtype": pl.Utf8, "coerce": False}
    columns = {
        "org_id": pa.Column(**text, nullable=False),
        "tbl_id": pa.Column(**text, nullable=False),
        "itm_id": pa.Column(**text, nullable=False),
        "c1": pa.Column(**text, nullable=False, checks=pa.Check.isin(list(region_codes), name="c1_known_region",
                                                                     error="C1 is not in reference.region_code_map")),
        **{f"c{i}": pa.Column(**text, nullable=True) for i in range(2, 9)},
        "prd_se": pa.Column(**text, checks=pa.Check.eq(prd_se_label, name="prd_se_as_requested",
                                                       error=f"PRD_SE differs from the requested {prd_se_label}")),
        "prd_de": pa.Column(**text, nullable=False),
        "year": pa.Column(pl.Int32, nullable=False, checks=pa.Check.in_range(1900, 2100)),
        "value": pa.Column(pl.Float64, nullable=True),
        "value_raw": pa.Column(**text, nullable=True,
                               checks=pa.Check(_is_number_or_marker, name="dt_is_number_or_marker",
                                               error="DT is neither a number nor a known non-number marker")),
        "lst_chn_de": pa.Column(**text, nullable=True, checks=pa.Check.str_matches(r"^\d{8}$")),
    }
    return pa.DataFrameSchema(
        columns,
        checks=[pa.Check(_period_matches_type, name="period_format_matches_type",
                         error="PRD_DE does not have the format of its PRD_SE")],
        strict=False,
        name="kosis.observation",
    )


# One value per cell and period, checked on the composite key alone (so it can span every chunk).
CELL_KEY_SCHEMA = pa.DataFrameSchema(
    {"cell_key": pa.Column(pl.Utf8, unique=True, nullable=False,
                           description="org|tbl|itm|c1..c8|prd_se|prd_de")},
    name="kosis.observation.one_value_per_cell",
)
