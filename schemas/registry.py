"""One metadata registry for every table the pipeline loads from a file.

Each `TableSpec` says what a table holds, its columns (type, meaning, allowed values, range), its
key, structural row checks (ERROR: the data cannot be right) and consistency rules (WARN: the
printed source disagrees with itself). The pandera schemas (`schemas.validation`), the DuckDB DDL
(`warehouse.ddl`), the Dagster column metadata and the data dictionary are all generated from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from schemas.regions import REGION_BY_CODE, REGION_CODES, REGION_TYPES

# DuckDB type -> pandas dtype used for coercion before validation.
PANDAS_DTYPES = {
    "VARCHAR": "str",
    "INTEGER": "int64",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "BOOLEAN": "bool",
}
NULLABLE_PANDAS_DTYPES = {"INTEGER": "Int64", "BIGINT": "Int64", "BOOLEAN": "boolean"}


__all__ = ["REGION_CODES", "REGION_TYPES"]  # re-exported: the registry's region facts (schemas/regions.py)


@dataclass(frozen=True)
class Measure:
    """How a reader is told a column's numbers: in words, with its unit, to one precision everywhere."""

    label: str
    unit: str
    decimals: int

    @property
    def title(self) -> str:
        """An axis title: the measure in words with its unit."""
        return f"{self.label}, {self.unit}" if self.unit else self.label

    @property
    def is_relative(self) -> bool:
        """A share, a ratio or a rank (unit '%...', 'percentage points', 'ratio' or none): comparable between
        the country and a region whatever their sizes. Otherwise a level (persons, won, programs), where the
        country's value is many times a region's."""
        return self.unit == "" or self.unit.startswith("%") or self.unit in ("percentage points", "ratio")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # a DuckDB type: VARCHAR, INTEGER, BIGINT, DOUBLE, BOOLEAN
    description: str
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    stored: bool = True  # False: read and checked, but not written (e.g. a printed 100.0 %)
    default: str | None = None  # a SQL literal, for a column a migration added with one (schemas/warehouse_tables.py)

    def pandas_dtype(self) -> str:
        if self.nullable and self.dtype in NULLABLE_PANDAS_DTYPES:
            return NULLABLE_PANDAS_DTYPES[self.dtype]
        return PANDAS_DTYPES[self.dtype]


@dataclass(frozen=True)
class RowCheck:
    """A structural check over whole rows (ERROR): returns True for every acceptable row."""

    name: str
    description: str
    passes: Callable[[pd.DataFrame], pd.Series]
    columns: tuple[str, ...] = ()  # the columns the rule reads: a failure is reported on these cells


@dataclass(frozen=True)
class ConsistencyRule:
    """A value printed in the source against the same value recomputed from other printed values.

    `recompute` returns, per row, the value that `column` should hold (NaN where the rule does not
    apply). A row is inconsistent when |published - recomputed| > tolerance; the tolerance is the
    printed precision (half a unit of the last printed digit per rounded term).
    """

    name: str
    column: str
    description: str
    recompute: Callable[[pd.DataFrame], pd.Series]
    tolerance: float

    def differences(self, df: pd.DataFrame) -> pd.DataFrame:
        recomputed = pd.to_numeric(self.recompute(df), errors="coerce")
        published = pd.to_numeric(df[self.column], errors="coerce")
        out = pd.DataFrame({"published": published, "recomputed": recomputed}, index=df.index)
        out["difference"] = out["published"] - out["recomputed"]
        return out

    def passes(self, df: pd.DataFrame) -> pd.Series:
        diff = self.differences(df)
        # 1e-9 absorbs binary floating point; NaN recomputed = rule not applicable to the row.
        return diff["recomputed"].isna() | (diff["difference"].abs() <= self.tolerance + 1e-9)


@dataclass(frozen=True)
class TableSpec:
    name: str  # table name inside its schema
    schema: str  # DuckDB schema: paper | reference
    title: str
    description: str
    file: str  # path under assets/sources/
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    source_table: str | None = None  # e.g. "Table 6" for paper tables
    unit: str | None = None
    source_note: str | None = None  # the printed "Source:" line
    # For a paper table: whether later years exist (a KOSIS series the catalog reads, an annual successor not yet
    # catalogued) or it is a one-off document that does not refresh (paper.catalog.refreshes).
    refreshes: str | None = None
    row_checks: tuple[RowCheck, ...] = ()
    consistency: tuple[ConsistencyRule, ...] = ()
    # Rows that are printed and checked but not stored (a printed "Total 100.0" line).
    drop_rows: Callable[[pd.DataFrame], pd.Series] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # For a table printed without a year column: the year it refers to and where the paper says so.
    # It is stored as an extra `year` column so that indicators need no hard-coded years.
    reference_year: int | None = None
    reference_year_from: str | None = None
    # Fewer data rows than this (e.g. a header-only file) is a structural failure: as printed, or as shipped.
    min_rows: int = 0

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def stored_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.stored)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


# The columns a paper table carries beside its printed ones: where each row comes from.
PROVENANCE_COLUMNS = (
    Column("source_table", "VARCHAR", "The printed table this row comes from, e.g. 'Table 6'"),
    Column("source_note", "VARCHAR", "The printed 'Source:' line"),
)


def written_columns(spec: TableSpec) -> tuple[Column, ...]:
    """The columns of the warehouse table a file becomes, in order: the stored printed columns, the year of a table
    printed without one, and a paper table's provenance."""
    year = (
        (Column("year", "INTEGER", f"Reference year, from {spec.reference_year_from} (not a printed column)"),)
        if spec.reference_year is not None else ()
    )
    return (*spec.stored_columns, *year, *(PROVENANCE_COLUMNS if spec.schema == "paper" else ()))


def written_key(spec: TableSpec) -> tuple[str, ...]:
    """The warehouse table's primary key: the spec's, unless a key column may be NULL (no primary key can)."""
    return () if any(spec.column(k).nullable for k in spec.key) else spec.key


# --- reusable column and rule builders -------------------------------------------------------------

def pct(name: str, description: str, nullable: bool = False, stored: bool = True) -> Column:
    return Column(name, "DOUBLE", description + " (percent, 0-100)", nullable, 0.0, 100.0, stored=stored)


def region_code(description: str = "KOSIS statistical sido code; 00 = whole country / total") -> Column:
    return Column("region_code", "VARCHAR", description, allowed=REGION_CODES)


def year(description: str = "Reference year", lo: int = 1980, hi: int = 2030) -> Column:
    return Column("year", "INTEGER", description, min=lo, max=hi)


def region_exists_in_year(df: pd.DataFrame) -> pd.Series:
    """A region row must not predate its region (e.g. Sejong before 2012)."""
    start = df["region_code"].map(lambda c: REGION_BY_CODE[c].valid_from_year if c in REGION_BY_CODE else 0)
    return df["year"] >= start


def matches_the_contract_regions(df: pd.DataFrame) -> pd.Series:
    """Each row of the reference table equals the region of schemas/regions.py with its code."""
    def same(row: pd.Series) -> bool:
        region = REGION_BY_CODE.get(row["region_code"])
        if region is None:
            return False
        to = None if pd.isna(row["valid_to_year"]) else int(row["valid_to_year"])
        return (row["name_en"], row["name_ko"], row["region_type"], int(row["valid_from_year"]), to,
                row["name_short_ko"], row["iso_3166_2"]) == (
            region.name_en, region.name_ko, region.region_type, region.valid_from_year, region.valid_to_year,
            region.name_short_ko, region.iso_3166_2)

    return df.apply(same, axis=1).astype(bool) if len(df) else pd.Series(dtype=bool)


def shares_sum_to(columns: list[str], total: float = 100.0) -> Callable[[pd.DataFrame], pd.Series]:
    def recompute(df: pd.DataFrame) -> pd.Series:
        return total - df[columns[1:]].sum(axis=1)

    return recompute


def ratio_pct(numerator: str, denominator: str) -> Callable[[pd.DataFrame], pd.Series]:
    def recompute(df: pd.DataFrame) -> pd.Series:
        return df[numerator] / df[denominator] * 100.0

    return recompute


def part_sum_vs_total(label_col: str, total_label: str, value_col: str, group: str | None = None):
    """Recomputes the printed total row as the sum of the part rows (NaN on part rows)."""

    def recompute(df: pd.DataFrame) -> pd.Series:
        is_total = df[label_col] == total_label
        groups = df[group] if group else pd.Series(0, index=df.index)
        sums = df[~is_total].groupby(groups[~is_total])[value_col].sum()
        return groups.map(sums).where(is_total)

    return recompute


HALF_TENTH = 0.05  # one value printed to one decimal place


# --- the paper's nine tables -----------------------------------------------------------------------

PAPER_SOURCE_KOSIS = "Source: Korea National Statistic Office (<http://kosis.kr>)"

GRDP_SHARES = ["primary_pct", "secondary_pct", "tertiary_pct"]

PAPER_TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        name="grdp_structure",
        min_rows=4,
        schema="paper",
        source_table="Table 1",
        refreshes="refreshed: later years come from KOSIS GRDP by economic activity (101/DT_1C91, 2020 base; "
                  "101/DT_1C81, the earlier base) into indicators.industrial_structure",
        title="Industrial structure by GRDP in Daegu City",
        description="Shares of primary, secondary and tertiary industry in Daegu's GRDP, as printed.",
        unit="% of GRDP",
        source_note=PAPER_SOURCE_KOSIS,
        file="paper/table_1_grdp_structure.csv",
        key=("region_code", "year"),
        columns=(
            region_code(),
            Column("region_printed", "VARCHAR", "Region label as printed"),
            year(),
            pct("primary_pct", "Primary industry (agriculture) share of GRDP"),
            pct("secondary_pct", "Secondary industry (manufacturing) share of GRDP"),
            pct("tertiary_pct", "Tertiary industry (services) share of GRDP"),
        ),
        row_checks=(RowCheck("region_exists_in_year", "region existed in that year", region_exists_in_year,
                            ("region_code", "year")),),
        consistency=(
            ConsistencyRule(
                "sector_shares_sum_to_100",
                "primary_pct",
                "primary + secondary + tertiary must be 100 within the printed precision",
                shares_sum_to(GRDP_SHARES),
                tolerance=3 * HALF_TENTH,
            ),
        ),
    ),
    TableSpec(
        name="sme_share_manufacturing",
        min_rows=17,
        schema="paper",
        source_table="Table 2",
        refreshes="refreshed: later years come from KOSIS, the establishment census by size (101/DT_1K52F03, "
                  "101/DT_1K52B03) and the SME ministry's firms and workers by size (142/DT_BR_A001, 142/DT_BR_B001), "
                  "into indicators.sme_concentration",
        title="SMEs' share in manufacturing sector by regions (2011)",
        description="Share of SMEs (under 300 employees) in manufacturing firms and in manufacturing "
        "employment, by region, 2011, as printed.",
        unit="%",
        source_note=PAPER_SOURCE_KOSIS,
        file="paper/table_2_sme_share_manufacturing.csv",
        key=("region_code", "year"),
        columns=(
            region_code(),
            Column("region_printed", "VARCHAR", "Region label as printed"),
            year(lo=2011, hi=2011),
            Column("region_type", "VARCHAR", "Printed grouping: country, metropolitan or province",
                   allowed=REGION_TYPES),
            pct("sme_firm_pct", "SMEs among manufacturing firms"),
            pct("sme_worker_pct", "SME workers among manufacturing employment"),
        ),
        row_checks=(
            RowCheck("region_exists_in_year", "region existed in that year", region_exists_in_year,
                            ("region_code", "year")),
            RowCheck(
                "region_type_matches_reference",
                "printed grouping (metropolitan city / province) matches reference.regions",
                lambda df: df["region_type"] == df["region_code"].map(
                    lambda c: REGION_BY_CODE[c].region_type if c in REGION_BY_CODE else None),
                ("region_code", "region_type"),
            ),
        ),
        consistency=tuple(
            ConsistencyRule(
                f"country_{col}_within_regional_range",
                col,
                "the whole-country share is an employment- or firm-weighted mean of the regions, so it "
                "must lie between the lowest and the highest regional share",
                (lambda c: lambda df: df[c].clip(
                    lower=df.loc[df.region_code != "00", c].min(),
                    upper=df.loc[df.region_code != "00", c].max(),
                ).where(df.region_code == "00"))(col),
                tolerance=0.0,
            )
            for col in ("sme_firm_pct", "sme_worker_pct")
        ),
    ),
    TableSpec(
        name="policy_measures_2008",
        min_rows=17,
        schema="paper",
        source_table="Table 3",
        refreshes="does not refresh: a one-off policy document (the 2008 Vitalization Measures for Regional Economies)",
        title="Practical subjects for activating regional economies (2008)",
        description="The 'Vitalization Measures for Regional Economies' (2008): one row per printed bullet.",
        source_note="Source: National Balanced Development Commission (2008)",
        file="paper/table_3_policy_measures_2008.csv",
        key=("policy_area", "item_no"),
        reference_year=2008,
        reference_year_from="the table's title",
        columns=(
            Column("policy_area", "VARCHAR", "Policy area (left column)"),
            Column("item_no", "INTEGER", "Position of the bullet within its policy area", min=1, max=20),
            Column("measure", "VARCHAR", "The bullet text as printed"),
        ),
    ),
    TableSpec(
        name="daegu_plans",
        min_rows=15,
        schema="paper",
        source_table="Table 4",
        refreshes="does not refresh: a one-off policy document (Daegu City's development plans of 2012 and 2013)",
        title="Daegu City's development plans in 2012 and 2013 year",
        description="Primary emphasis policy of Daegu's development plans and its numbered sub-policies; "
        "one row per detail line, or one row with detail NULL for a sub-policy without details.",
        source_note="Source: Daegu Metropolitan Government (www.daegu.go.kr)",
        file="paper/table_4_daegu_plans.csv",
        key=("year", "item_no", "detail_no"),
        columns=(
            year(lo=2012, hi=2013),
            Column("primary_policy", "VARCHAR", "Primary emphasis policy of the year"),
            Column("item_no", "INTEGER", "Number of the sub-policy as printed", min=1, max=20),
            Column("sub_policy", "VARCHAR", "Sub-policy as printed"),
            Column("detail_no", "INTEGER", "Position of the detail line (NULL: no details)",
                   nullable=True, min=1, max=20),
            Column("detail", "VARCHAR", "Detail line as printed (NULL: no details)", nullable=True),
        ),
        row_checks=(
            RowCheck("detail_and_detail_no_together", "detail and detail_no are both set or both NULL",
                     lambda df: df["detail"].isna() == df["detail_no"].isna(), ("detail_no", "detail")),
        ),
    ),
    TableSpec(
        name="industrial_land_prices",
        min_rows=7,
        schema="paper",
        source_table="Table 5",
        refreshes="does not refresh: a one-off comparison of particular complexes' land prices as reported in 2012",
        title="Comparison of land prices between newly established industrial complexes in Daegu City "
        "and in peripheral regions in Gyeongbuk province",
        description="Sale prices of newly established industrial complexes, Daegu vs peripheral "
        "Gyeongbuk cities.",
        unit="1,000 KRW per 3.3 m2",
        source_note="(no source line printed; the unit line reads '(unit: 1,000 KRW/3.3m2)')",
        file="paper/table_5_industrial_land_prices.csv",
        key=("complex",),
        columns=(
            Column("city", "VARCHAR", "City as printed (spelling as printed, e.g. 'Yeongchen')"),
            Column("complex", "VARCHAR", "Industrial complex"),
            Column("sale_year", "INTEGER", "Year the complex's land was sold", min=1990, max=2013),
            Column("price_krw_thousand_per_3_3m2", "DOUBLE", "Sale price, 1,000 KRW per 3.3 m2 (one pyeong)",
                   min=1, max=100000),
            Column("distance_km", "DOUBLE", "Distance from downtown Daegu, km (printed only for Daegu)",
                   nullable=True, min=0, max=200),
        ),
        row_checks=(
            RowCheck("distance_printed_only_for_daegu", "distance from downtown is printed for Daegu rows only",
                     lambda df: df["distance_km"].notna() == (df["city"] == "Daegu"), ("city", "distance_km")),
        ),
    ),
    TableSpec(
        name="st_budget_2011",
        min_rows=17,
        schema="paper",
        source_table="Table 6",
        refreshes="partly refreshed: the financial-independence column continues as KOSIS 101/DT_1YL20921 "
                  "(indicators.fiscal_independence); the S&T budget by fund has no catalogued successor "
                  "(docs/paper-successors.md)",
        title="Science and technology budget of 16 upper-level local authorities (2011)",
        description="S&T budget by region and fund, 2011, with the printed regional-fund ratio and the "
        "finance independence degree.",
        unit="million won, %",
        source_note="Source: Regional Science and Technology Yearbook 2011 (National Science and "
        "Technology Commission, 2011a)",
        file="paper/table_6_st_budget_2011.csv",
        key=("region_code",),
        reference_year=2011,
        reference_year_from="the table's title",
        columns=(
            region_code("KOSIS statistical sido code; 00 = the printed Total of the 16 authorities"),
            Column("region_printed", "VARCHAR", "Region label as printed"),
            Column("total_budget_mkrw", "BIGINT", "Total S&T budget, million won", min=0),
            Column("national_fund_mkrw", "BIGINT", "National (central government) fund, million won", min=0),
            Column("regional_fund_mkrw", "BIGINT", "Regional (local government) fund, million won", min=0),
            pct("regional_ratio_pct", "Printed ratio of the regional fund to the total budget"),
            pct("finance_independence_pct", "Finance independence degree (blank for the Total row)",
                nullable=True),
        ),
        row_checks=(
            RowCheck("independence_blank_only_on_total", "finance independence is blank only on the Total row",
                     lambda df: df["finance_independence_pct"].isna() == (df["region_code"] == "00"),
                     ("region_code", "finance_independence_pct")),
            RowCheck("funds_within_total", "national + regional fund does not exceed the total budget",
                     lambda df: df["national_fund_mkrw"] + df["regional_fund_mkrw"] <= df["total_budget_mkrw"],
                     ("total_budget_mkrw", "national_fund_mkrw", "regional_fund_mkrw")),
        ),
        consistency=(
            ConsistencyRule("regional_ratio_matches_amounts", "regional_ratio_pct",
                            "printed ratio = regional fund / total budget x 100, to one decimal",
                            ratio_pct("regional_fund_mkrw", "total_budget_mkrw"), tolerance=HALF_TENTH),
            *(
                ConsistencyRule(f"total_row_{col}_equals_sum_of_regions", col,
                                f"the Total row's {col} equals the sum of the 16 regions",
                                part_sum_vs_total("region_code", "00", col), tolerance=0.0)
                for col in ("total_budget_mkrw", "national_fund_mkrw", "regional_fund_mkrw")
            ),
        ),
    ),
    TableSpec(
        name="st_program_counts",
        min_rows=3,
        schema="paper",
        source_table="Table 7",
        refreshes="does not refresh: a one-off policy document (Daegu City's S&T programs, 2010-2012)",
        title="The number of national and regional programs in Daegu City's S&T policies",
        description="Count of Daegu's S&T programs co-financed national programs vs the city's own "
        "regional programs, with printed percentages.",
        unit="programs, %",
        source_note="Source : National Science & Technology Commission (www.nstc.go.kr)",
        file="paper/table_7_st_program_counts.csv",
        key=("year",),
        columns=(
            year(lo=2000, hi=2030),
            Column("total_programs", "BIGINT", "All S&T programs", min=0),
            Column("national_programs", "BIGINT", "National programs co-financed by Daegu City", min=0),
            Column("regional_programs", "BIGINT", "Daegu City's own regional programs", min=0),
            pct("total_pct", "Printed percentage of the total (checked, not stored)", stored=False),
            pct("national_pct", "Printed share of national programs"),
            pct("regional_pct", "Printed share of regional programs"),
        ),
        consistency=(
            ConsistencyRule("total_equals_national_plus_regional", "total_programs",
                            "total programs = national + regional",
                            lambda df: df["national_programs"] + df["regional_programs"], tolerance=0.0),
            ConsistencyRule("national_pct_matches_counts", "national_pct",
                            "printed national % = national / total x 100, to one decimal",
                            ratio_pct("national_programs", "total_programs"), tolerance=HALF_TENTH),
            ConsistencyRule("regional_pct_matches_counts", "regional_pct",
                            "printed regional % = regional / total x 100, to one decimal",
                            ratio_pct("regional_programs", "total_programs"), tolerance=HALF_TENTH),
            ConsistencyRule("printed_total_pct_is_100", "total_pct", "the printed total reads 100.0%",
                            lambda df: pd.Series(100.0, index=df.index), tolerance=0.0),
        ),
    ),
    TableSpec(
        name="rd_programs_by_manager",
        min_rows=7,
        schema="paper",
        source_table="Table 8",
        refreshes="does not refresh: a one-off policy document (Daegu City's R&D programs by managing body)",
        title="The ratio of the R&D programs of Daegu City by managing bodies",
        description="Share of Daegu City's R&D programs by the body that manages them (Annual "
        "Expenditure Instruction of Daegu City, 2013, per the paper's text). The printed 100.0% "
        "total is checked, not stored.",
        unit="%",
        source_note="Source: Daegu Metropolitan Government (www.daegu.go.kr)",
        file="paper/table_8_rd_programs_by_manager.csv",
        key=("managing_body",),
        reference_year=2013,
        reference_year_from="the text: 'According to the Annual Expenditure Instruction of Daegu City in 2013 year'",
        columns=(
            Column("managing_body", "VARCHAR", "Managing body as printed"),
            pct("share_pct", "Share of Daegu's R&D programs"),
        ),
        drop_rows=lambda df: df["managing_body"] == "Total",
        notes=("Note printed: Firm support organizations are the Daegu Technopark, the Daegu Digital "
               "Industry Promotion Agency, the Daegu Regional Intellectual Property Center, etc.",),
        consistency=(
            ConsistencyRule("printed_total_equals_sum_of_bodies", "share_pct",
                            "the printed Total equals the sum of the six bodies within printed precision",
                            part_sum_vs_total("managing_body", "Total", "share_pct"),
                            tolerance=6 * HALF_TENTH),
        ),
    ),
    TableSpec(
        name="national_rd_by_body",
        min_rows=12,
        schema="paper",
        source_table="Table 9",
        refreshes="not yet refreshed: national R&D investment by research body is published yearly, but no successor "
                  "is catalogued (docs/paper-successors.md)",
        title="The ratio of national R&D investment by research bodies",
        description="Share of national R&D investment by research body, 2010 and 2011. The printed "
        "100.0 totals are checked, not stored.",
        unit="%",
        source_note="Source : National Science & Technology Commission (2011b)",
        file="paper/table_9_national_rd_by_body.csv",
        key=("year", "research_body"),
        columns=(
            Column("research_body", "VARCHAR", "Research body as printed"),
            year(lo=2000, hi=2030),
            pct("share_pct", "Share of national R&D investment"),
        ),
        drop_rows=lambda df: df["research_body"] == "Total",
        consistency=(
            ConsistencyRule("printed_total_equals_sum_of_bodies", "share_pct",
                            "the printed Total equals the sum of the five bodies within printed precision",
                            part_sum_vs_total("research_body", "Total", "share_pct", group="year"),
                            tolerance=5 * HALF_TENTH),
        ),
    ),
)


def validity_ordered() -> RowCheck:
    """A span of years that ends no earlier than it starts (an open end: still valid)."""
    return RowCheck("validity_ordered", "valid_from_year <= valid_to_year",
                    lambda df: df["valid_to_year"].isna() | (df["valid_from_year"] <= df["valid_to_year"]),
                    ("valid_from_year", "valid_to_year"))


REFERENCE_TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        name="regions",
        min_rows=18,
        schema="reference",
        title="Korean regions (sido) with KOSIS statistical codes",
        description="The 17 sido and the whole country with the KOSIS statistical code (C1) used across "
        "the warehouse, English and Korean names, type and years of existence.",
        file="reference/regions.csv",
        key=("region_code",),
        columns=(
            region_code(),
            Column("name_en", "VARCHAR", "English name"),
            Column("name_ko", "VARCHAR", "Korean name"),
            Column("region_type", "VARCHAR", "country | metropolitan | province", allowed=REGION_TYPES),
            Column("valid_from_year", "INTEGER", "First year the region exists as a sido", min=1900, max=2100),
            Column("valid_to_year", "INTEGER", "Last year (NULL: still exists)", nullable=True,
                   min=1900, max=2100),
            Column("name_short_ko", "VARCHAR", "Short Korean name, as the SME ministry's tables print it (대구, 전북)"),
            Column("iso_3166_2", "VARCHAR", "ISO 3166-2:KR subdivision code (KR-27 Daegu; KR for the country)"),
        ),
        row_checks=(
            RowCheck("matches_the_contract_regions",
                     "the row equals the contract's region with that code (schemas/regions.py): names, type, years",
                     matches_the_contract_regions,
                     ("region_code", "name_en", "name_ko", "region_type", "valid_from_year", "valid_to_year",
                      "name_short_ko", "iso_3166_2")),
        ),
    ),
    TableSpec(
        name="region_code_map",
        min_rows=38,
        schema="reference",
        title="Region codes of other KOSIS code systems mapped onto the statistical sido codes",
        description="Maps codes of other systems (kosis_sido: identity; admin: resident-registration "
        "administrative codes) to region_code. Years bound a code only where it really changed meaning: "
        "Gangwon's 42 and 51 and Jeonbuk's 45 and 52 both map for every year, because KOSIS serves the past "
        "years of a table under today's codes (51 and 52 for 2014 in DT_1B040A3).",
        file="reference/region_code_map.csv",
        key=("code_system", "code", "valid_from_year"),
        columns=(
            Column("code_system", "VARCHAR", "Code system: kosis_sido | admin", allowed=("kosis_sido", "admin")),
            Column("code", "VARCHAR", "Code in that system"),
            region_code("The statistical sido code it maps to"),
            Column("valid_from_year", "INTEGER", "First year the code is used", min=1900, max=2100),
            Column("valid_to_year", "INTEGER", "Last year the code is used (NULL: still used)", nullable=True,
                   min=1900, max=2100),
        ),
        row_checks=(
            validity_ordered(),
        ),
    ),
    TableSpec(
        name="region_names",
        min_rows=18,
        schema="reference",
        title="Korean names of the regions by year",
        description="The name each region bore in each span of years (직할시 -> 광역시 in 1995, 제주도 -> "
        "제주특별자치도 in 2006, 강원도 -> 강원특별자치도 in 2023, 전라북도 -> 전북특별자치도 in 2024): indicators "
        "print a row's region under the name of its year.",
        file="reference/region_names.csv",
        key=("region_code", "valid_from_year"),
        columns=(
            region_code(),
            Column("name_ko", "VARCHAR", "Korean name in those years"),
            Column("valid_from_year", "INTEGER", "First year of the name", min=1900, max=2100),
            Column("valid_to_year", "INTEGER", "Last year of the name (NULL: still its name)", nullable=True,
                   min=1900, max=2100),
        ),
        row_checks=(
            validity_ordered(),
            RowCheck("current_name_is_the_contract_name",
                     "a name still in use (no valid_to_year) is the region's name in schemas/regions.py",
                     lambda df: df["valid_to_year"].notna() | (df["name_ko"] == df["region_code"].map(
                         lambda c: REGION_BY_CODE[c].name_ko if c in REGION_BY_CODE else None)),
                     ("region_code", "name_ko", "valid_to_year")),
        ),
    ),
    TableSpec(
        name="rd_body_orientation",
        min_rows=11,
        schema="reference",
        title="Orientation of the R&D bodies printed in Tables 8 and 9",
        description="Classifies each managing or research body of Tables 8 and 9 as research (universities, "
        "public research institutes), firm (firms, SMEs, large firms), intermediary (firm support "
        "organizations), government or other; indicators.rd_orientation joins on it.",
        file="reference/rd_body_orientation.csv",
        key=("source_table", "body"),
        columns=(
            Column("source_table", "VARCHAR", "Printed table", allowed=("Table 8", "Table 9")),
            Column("body", "VARCHAR", "Body label exactly as printed"),
            Column("orientation", "VARCHAR", "research | firm | intermediary | government | other",
                   allowed=("research", "firm", "intermediary", "government", "other")),
        ),
    ),
)

FILE_TABLES: tuple[TableSpec, ...] = REFERENCE_TABLES + PAPER_TABLES
SPECS_BY_NAME = {spec.qualified_name: spec for spec in FILE_TABLES}
