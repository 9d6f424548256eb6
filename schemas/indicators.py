"""Registry of the derived indicator tables: columns, key, unit, formula and sources.

The SQL that computes each table is `warehouse/sql/indicators/<name>.sql`; its result is validated
against the schema generated from these columns (ERROR, blocking) before it is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.registry import REGION_CODES, Column, TableSpec, pct, region_code, year

SECTORS = ("primary", "secondary", "tertiary")


@dataclass(frozen=True)
class IndicatorSpec:
    name: str
    unit: str
    formula: str
    sources: tuple[str, ...]  # warehouse tables read by the SQL
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # SQL file (warehouse/sql/indicators/) listing where two sources disagree, for quality.source_issues.
    comparison: str | None = None
    comparison_label: str | None = None  # its quality.source_issues.source_table

    @property
    def table(self) -> TableSpec:
        """The indicator as a TableSpec, so one schema generator serves files and indicators alike."""
        return TableSpec(name=self.name, schema="indicators", title=self.name, description=self.description,
                         file="", key=self.key, columns=self.columns)


def src(description: str = "Where the numbers come from") -> Column:
    return Column("source", "VARCHAR", description)


def region_names() -> tuple[Column, Column]:
    """Beside every region code, its names (reference.regions), so a reader needs no join."""
    return (Column("region_name", "VARCHAR", "Region name in English (reference.regions.name_en)"),
            Column("region_name_ko", "VARCHAR", "Region name in Korean (reference.regions.name_ko)"))


def source_table() -> Column:
    return Column("source_table", "VARCHAR", "The catalogued table (kosis.tables.id) or paper table the row came from")


def share(name: str, description: str, nullable: bool = False) -> Column:
    # Shares recomputed from amounts may fall just outside 0-100 only through a bad formula.
    return pct(name, description, nullable=nullable)


INDICATORS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        name="industrial_structure",
        unit="% of GRDP; percentage points",
        formula="share_pct = sector value added / total value added (총부가가치, basic prices) x 100, nominal, from "
        "the preferred KOSIS GRDP table covering the region-year (2020 base, then the earlier base), else the "
        "paper's printed share; tertiary = total - primary - secondary; change_pp = share_pct - share_pct of the "
        "previous observed year of the same region and sector (series_break: the two years come from different "
        "tables)",
        sources=("kosis.grdp_by_activity_2020", "kosis.grdp_by_activity_earlier_base",
                 "kosis.paper_table_1_kosis_form", "paper.grdp_structure"),
        comparison="industrial_structure_vs_paper.sql",
        comparison_label="Table 1 vs KOSIS",
        description="Industrial structure by GRDP: primary, secondary and tertiary shares by region and year.",
        key=("region_code", "year", "sector"),
        columns=(
            region_code(), *region_names(), year(),
            Column("sector", "VARCHAR", "primary | secondary | tertiary", allowed=SECTORS),
            share("share_pct", "Sector share of GRDP"),
            Column("change_pp", "DOUBLE", "Change since the previous observed year, percentage points (NULL "
                   "for the first)", nullable=True, min=-100, max=100),
            Column("years_since_previous", "INTEGER", "Years between this and the previous observation",
                   nullable=True, min=1, max=100),
            Column("series_break", "BOOLEAN", "The previous observed year came from another table (another base "
                   "year or the paper): change_pp spans a break in the series"),
            source_table(),
            src(),
        ),
    ),
    IndicatorSpec(
        name="sme_concentration",
        unit="%; percentage points; rank",
        formula="sme_firm_pct = SME establishments / all establishments x 100 (KOSIS current vintage where it "
        "covers the region-year, else the paper's printed share); gap = regional share - whole-country share; "
        "rank = RANK() over regions by share, descending (country excluded, ties share a rank)",
        sources=("kosis.manufacturing_by_size", "kosis.manufacturing_by_size_2006", "kosis.paper_table_2_kosis_form",
                 "paper.sme_share_manufacturing", "reference.regions"),
        comparison="sme_concentration_vs_paper.sql",
        comparison_label="Table 2 vs KOSIS",
        description="How concentrated manufacturing is in SMEs (< 300 employees), by region: shares, gaps to "
        "the country and ranks.",
        key=("region_code", "year"),
        columns=(
            region_code(), *region_names(), year(),
            Column("region_type", "VARCHAR", "country | metropolitan | province"),
            share("sme_firm_pct", "SMEs among manufacturing firms"),
            share("sme_worker_pct", "SME workers among manufacturing employment"),
            Column("firm_gap_to_country_pp", "DOUBLE", "Firm share minus the country's, pp", min=-100, max=100),
            Column("worker_gap_to_country_pp", "DOUBLE", "Worker share minus the country's, pp", min=-100, max=100),
            Column("worker_rank", "BIGINT", "Rank by worker share (1 = highest; NULL for the country)",
                   nullable=True, min=1, max=len(REGION_CODES)),
            Column("firm_rank", "BIGINT", "Rank by firm share (1 = highest; NULL for the country)",
                   nullable=True, min=1, max=len(REGION_CODES)),
            source_table(),
            src(),
        ),
    ),
    IndicatorSpec(
        name="population",
        unit="persons; rank",
        formula="population = resident registration population (KOSIS DT_1B040A3, item T20 총인구수), administrative "
        "region codes mapped to reference.regions; city_rank = RANK() among the metropolitan cities (incl. Seoul) "
        "by population, descending; region_rank = RANK() among all regions (country excluded)",
        sources=("kosis.population_by_sido", "reference.regions"),
        description="Resident population by region and year, with ranks among cities and among all regions.",
        key=("region_code", "year"),
        columns=(
            region_code(), *region_names(), year(),
            Column("region_type", "VARCHAR", "country | metropolitan | province"),
            Column("population", "BIGINT", "Resident registration population, persons", min=0),
            Column("city_rank", "BIGINT", "Rank among metropolitan cities incl. Seoul (NULL for provinces)",
                   nullable=True, min=1, max=len(REGION_CODES)),
            Column("region_rank", "BIGINT", "Rank among all regions (NULL for the country)", nullable=True, min=1,
                   max=len(REGION_CODES)),
            source_table(),
            src(),
        ),
    ),
    IndicatorSpec(
        name="st_budget_dependence",
        unit="million won; % of the region's S&T budget",
        formula="national_share_pct = national fund / total budget x 100; regional_share_pct = regional fund / "
        "total x 100; other_share_pct = (total - national - regional) / total x 100",
        sources=("paper.st_budget_2011",),
        description="Dependence of each region's science and technology budget on central government funds.",
        key=("region_code", "year"),
        columns=(
            region_code(), *region_names(), year(),
            Column("total_budget_mkrw", "BIGINT", "Total S&T budget, million won", min=0),
            Column("national_fund_mkrw", "BIGINT", "National fund, million won", min=0),
            Column("regional_fund_mkrw", "BIGINT", "Regional fund, million won", min=0),
            Column("other_fund_mkrw", "BIGINT", "Other sources = total - national - regional, million won", min=0),
            share("national_share_pct", "National fund share, recomputed"),
            share("regional_share_pct", "Regional fund share, recomputed"),
            share("other_share_pct", "Other sources' share, recomputed"),
            Column("national_exceeds_regional", "BOOLEAN", "The central government put in more than the region"),
            share("regional_ratio_pct_printed", "The regional ratio as printed in Table 6"),
            share("finance_independence_pct", "Finance independence degree as printed", nullable=True),
            src(),
        ),
    ),
    IndicatorSpec(
        name="st_program_mix",
        unit="programs; % of Daegu's S&T programs; percentage points",
        formula="national_share_pct = national programs / all programs x 100; change_pp = difference to the "
        "previous observed year",
        sources=("paper.st_program_counts",),
        description="Share of national (centrally initiated) programs among Daegu City's S&T programs.",
        key=("year",),
        columns=(
            year(),
            Column("total_programs", "BIGINT", "All programs", min=0),
            Column("national_programs", "BIGINT", "National programs", min=0),
            Column("regional_programs", "BIGINT", "Regional programs", min=0),
            share("national_share_pct", "National programs' share, recomputed"),
            share("regional_share_pct", "Regional programs' share, recomputed"),
            share("national_pct_printed", "National share as printed"),
            Column("change_pp", "DOUBLE", "Change of national_share_pct since the previous year, pp",
                   nullable=True, min=-100, max=100),
            src(),
        ),
    ),
    IndicatorSpec(
        name="rd_orientation",
        unit="% of R&D programs (Table 8) or of R&D investment (Table 9)",
        formula="research_oriented_pct = universities + public research institutes; firm_oriented_pct = "
        "firms (incl. SMEs and large firms); bodies classified in reference.rd_body_orientation",
        sources=("paper.rd_programs_by_manager", "paper.national_rd_by_body", "reference.rd_body_orientation"),
        description="Whether R&D support is research-oriented (universities, public institutes) or "
        "firm-oriented, in Daegu's programs and in national R&D investment.",
        key=("source", "year"),
        columns=(
            src("Which printed table: Daegu's programs (Table 8) or national investment (Table 9)"), year(),
            share("research_oriented_pct", "Universities + public research institutes"),
            share("firm_oriented_pct", "Firms, SMEs and large firms"),
            share("intermediary_pct", "Firm support organizations (e.g. Daegu Technopark)"),
            share("other_pct", "Government and other bodies", nullable=True),
            Column("unclassified_bodies", "BIGINT", "Bodies missing from reference.rd_body_orientation",
                   min=0, max=0),
            Column("source_table", "VARCHAR", "Printed table"),
        ),
    ),
    IndicatorSpec(
        name="land_price_gap",
        unit="1,000 KRW per 3.3 m2; ratio",
        formula="ratio_to_peripheral_mean = price / mean price of the complexes outside Daegu",
        sources=("paper.industrial_land_prices",),
        description="Land prices of new industrial complexes in Daegu against those of peripheral Gyeongbuk "
        "cities.",
        key=("complex",),
        columns=(
            Column("complex", "VARCHAR", "Industrial complex"),
            Column("city", "VARCHAR", "City as printed"),
            Column("sale_year", "INTEGER", "Sale year", min=1990, max=2013),
            Column("price_krw_thousand_per_3_3m2", "DOUBLE", "Sale price", min=0),
            Column("ratio_to_peripheral_mean", "DOUBLE", "Price / peripheral mean price", min=0),
            Column("peripheral_mean_price", "DOUBLE", "Mean price of the peripheral complexes", min=0),
            Column("in_daegu", "BOOLEAN", "The complex is in Daegu"),
            Column("distance_km", "DOUBLE", "Distance from downtown Daegu, km", nullable=True, min=0),
            src(),
        ),
    ),
)

CLAIM_VERDICTS = ("supported", "contradicted", "partly supported", "not evaluable")

PAPER_CLAIMS = IndicatorSpec(
    name="paper_claims",
    unit="verdict",
    formula="one SQL query per claim (warehouse/sql/claims.yaml) returns the observed numbers and a verdict",
    sources=("indicators.*", "paper.*"),
    description="Quantitative claims of the paper's text, each evaluated against the warehouse.",
    key=("claim_id",),
    columns=(
        Column("claim_id", "VARCHAR", "Claim identifier"),
        Column("section", "VARCHAR", "Section of the paper"),
        Column("claim_text", "VARCHAR", "The claim, quoted or closely paraphrased"),
        Column("observed", "VARCHAR", "What the warehouse shows"),
        Column("verdict", "VARCHAR", " | ".join(CLAIM_VERDICTS), allowed=CLAIM_VERDICTS),
        Column("evidence_tables", "VARCHAR", "Tables the query reads"),
        Column("query", "VARCHAR", "The SQL that evaluated the claim"),
    ),
)
