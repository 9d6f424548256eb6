"""What an indicator is, as data: its table (columns, key), unit, formula, sources, how each measure is said
and shown, its charts and the paper's claims it answers.

Each indicator is one module of this package (`schemas/indicators/<name>.py`, holding `SPEC`) and one SQL file
that computes its table (`warehouse/sql/indicators/<name>.sql`). Everything else is generated from the spec: the
pandera schema that validates the result before it is written, the DDL and column comments, the Dagster asset
and its metadata, the data dictionary, the report's section and charts, and the claim rows of
`indicators.paper_claims`.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import ClassVar

from schemas.registry import Column, Measure, TableSpec, pct

SECTORS = ("primary", "secondary", "tertiary")
CLAIM_VERDICTS = ("supported", "contradicted", "partly supported", "not evaluable")


@dataclass(frozen=True)
class Claim:
    """A quantitative claim of the paper, evaluated by one query: it returns one row, `observed` (text) and
    `verdict` (one of CLAIM_VERDICTS), and, when it reads an indicator fed by KOSIS, `rows_read`: the
    `source_table:year` of every row it read (comma-separated), from which `checked_against` is derived. Nothing
    in the query is a result: the numbers come from `tables`."""

    id: str
    section: str  # of the paper
    text: str  # the claim, quoted or closely paraphrased
    tables: str  # the tables the query reads, comma-separated
    sql: str

    @property
    def query(self) -> str:
        return textwrap.dedent(self.sql).strip()


# --- charts: the kinds the report draws, each configured by the indicator that uses it -----------------------

@dataclass(frozen=True)
class RankedBars:
    """The latest year: one horizontal bar per region (the country excluded) ranked by `value`, Daegu
    highlighted, the country's value as a dashed reference line."""

    value: str
    title: str  # the year is appended
    kind: ClassVar[str] = "ranked"


@dataclass(frozen=True)
class RegionLines:
    """One line per region over the years; Daegu highlighted, the country shown, other regions in the legend.
    Drawn when the table holds at least `min_years` years."""

    value: str
    title: str
    min_years: int = 1
    kind: ClassVar[str] = "lines"


@dataclass(frozen=True)
class SeriesLines:
    """One line per (region, `series`) over the years, one colour per series; Daegu's lines shown, other
    regions' in the legend. The regions drawn are appended to the title."""

    value: str
    series: str
    title: str
    kind: ClassVar[str] = "lines"


@dataclass(frozen=True)
class StackedShares:
    """The latest year: one stacked horizontal bar per region, the country first, parts summing to 100."""

    parts: tuple[tuple[str, str, str], ...]  # (column, legend name, colour)
    sort_by: str
    title: str  # the year is appended
    x_title: str
    caption: str
    kind: ClassVar[str] = "stacked"


@dataclass(frozen=True)
class YearLine:
    """One series over the years, each point labelled with its value."""

    value: str
    title: str
    caption: str
    y_range: tuple[float, float] | None = None
    kind: ClassVar[str] = "lines"


@dataclass(frozen=True)
class GroupedBars:
    """Grouped vertical bars: one group per row (labelled `<source_table>, <year>`), one bar per column."""

    columns: tuple[str, ...]
    title: str
    x_title: str
    y_title: str
    caption: str
    kind: ClassVar[str] = "bars"


@dataclass(frozen=True)
class ItemBars:
    """One horizontal bar per row (an item, e.g. an industrial complex, labelled with its place), sorted by
    `value`; rows where `highlight` is true in red; `reference` drawn as a dashed line, `ratio` beside each value."""

    value: str
    item: str
    place: str
    highlight: str
    title: str
    caption: str
    ratio: str | None = None
    reference: str | None = None
    reference_label: str = ""
    kind: ClassVar[str] = "bars"


Chart = RankedBars | RegionLines | SeriesLines | StackedShares | YearLine | GroupedBars | ItemBars


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
    # How a column is said and shown (in words, its unit, its precision), in the report's charts and tables.
    measures: dict[str, Measure] = field(default_factory=dict)
    charts: tuple[Chart, ...] = ()
    claims: tuple[Claim, ...] = ()

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
            Column("region_name_ko", "VARCHAR", "Region name in Korean as it was in the row's year "
                   "(reference.region_names: 전라북도 until 2023, 전북특별자치도 from 2024)"))


def source_table() -> Column:
    return Column("source_table", "VARCHAR", "The catalogued table (kosis.tables.id) or paper table the row came from")


def share(name: str, description: str, nullable: bool = False) -> Column:
    # Shares recomputed from amounts may fall just outside 0-100 only through a bad formula.
    return pct(name, description, nullable=nullable)
