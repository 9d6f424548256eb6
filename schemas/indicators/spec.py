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
NO_LATER_DATA = "no later data"
# A claim judged on a year after the paper's: a verdict, or no year after the paper's to judge it on.
PERIOD_VERDICTS = (*CLAIM_VERDICTS, NO_LATER_DATA)
# How a claim fares from the paper's year to the latest (holds: supported or partly supported).
CLAIM_CHANGES = ("still holds", "no longer holds", "newly holds", "still does not hold", "not evaluable",
                 NO_LATER_DATA)
# The periods a claim is judged on (indicators.claim_verdicts.period).
CLAIM_PERIODS = ("paper", "latest", "since paper", "each year")


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
    paper_years: tuple[int, int]  # the first and last year the paper's claim is about
    # How the claim is judged on a year after the paper's, or why it cannot be (exactly one of the two).
    recheck: Recheck | None = None
    not_refreshed: str | None = None

    @property
    def query(self) -> str:
        return textwrap.dedent(self.sql).strip()

    def __post_init__(self) -> None:
        if (self.recheck is None) == (self.not_refreshed is None):
            raise ValueError(f"claim {self.id}: give either `recheck` or `not_refreshed`")
        if not 1900 < self.paper_years[0] <= self.paper_years[1]:
            raise ValueError(f"claim {self.id}: paper_years must be (first, last) years")


@dataclass(frozen=True)
class Ranking:
    """Daegu among its peers, every year the data hold: `sql` returns one row per year and series (a region, or a
    group such as the metropolitan cities' mean) with `year`, `series`, `region_code` (NULL for a group), `value`,
    `rank` (1 = highest; NULL for a group) and `source` (the indicator rows' `source`). Stored in indicators.claim_rankings and drawn in the report as one
    line per series over the years, Daegu highlighted."""

    title: str
    value: str  # what `value` is, in words, with its unit
    sql: str
    rank_axis: bool = True  # draw the rank (True) or the value (False) over the years

    @property
    def query(self) -> str:
        return textwrap.dedent(self.sql).strip()


@dataclass(frozen=True)
class Recheck:
    """A claim judged again on any year the warehouse holds (indicators.claim_verdicts).

    `text` says what is judged on a later year (the claim's substance, where its printed numbers are of one year).
    `sql` takes `$year` and returns one row: `observed`, `verdict` (CLAIM_VERDICTS) and `rows_read` (as a claim's
    query). `years` returns the years the claim's data hold (`year`). A claim about a trend also has `trend_text`
    and `trend_sql`, which takes `$from_year` (the paper's last year) and `$year` (the latest). A claim comparing
    Daegu with other regions has a `ranking`, and is judged on every year the data hold."""

    text: str
    sql: str
    years: str
    tables: str | None = None  # the tables it reads, where not the claim's (a successor of the paper's table)
    trend_text: str | None = None
    trend_sql: str | None = None
    ranking: Ranking | None = None

    @property
    def query(self) -> str:
        return textwrap.dedent(self.sql).strip()

    @property
    def trend_query(self) -> str | None:
        return textwrap.dedent(self.trend_sql).strip() if self.trend_sql else None

    @property
    def years_query(self) -> str:
        return textwrap.dedent(self.years).strip()


# --- charts: the kinds the report draws, each configured by the indicator that uses it -----------------------

# Where a chart draws the whole country (region_code '00') beside the regions: on the regions' own scale
# ("shared"), or apart ("own": a secondary axis for lines, a note for bars) so that a level such as a population
# does not flatten the regions' lines. None: decided by the measure's unit (Measure.is_relative: shares, ratios and
# ranks are comparable with the regions', levels are not).
COUNTRY_SCALES = ("shared", "own")


@dataclass(frozen=True)
class RankedBars:
    """The latest year: one horizontal bar per region (the country excluded) ranked by `value`, Daegu
    highlighted, the country's value as a dashed reference line (on its own scale: said above the bars)."""

    value: str
    title: str  # the year is appended
    country_scale: str | None = None  # COUNTRY_SCALES; None: by the measure's unit
    kind: ClassVar[str] = "ranked"


@dataclass(frozen=True)
class RegionLines:
    """One line per region over the years; Daegu highlighted, the country shown, other regions in the legend.
    Drawn when the table holds at least `min_years` years."""

    value: str
    title: str
    min_years: int = 1
    country_scale: str | None = None  # COUNTRY_SCALES; None: by the measure's unit
    kind: ClassVar[str] = "lines"


@dataclass(frozen=True)
class SeriesLines:
    """One line per (region, `series`) over the years, one colour per series; Daegu's lines shown, other
    regions' in the legend. The regions drawn are appended to the title."""

    value: str
    series: str
    title: str
    country_scale: str | None = None  # COUNTRY_SCALES; None: by the measure's unit
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
    # The indicator in words, as a reader names it: the report's section heading (the name stays beside it).
    title: str
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

    def __post_init__(self) -> None:
        if not self.title.strip() or "_" in self.title:
            raise ValueError(f"indicator {self.name}: `title` says the indicator in words, not its name")
        for chart in self.charts:
            scale = getattr(chart, "country_scale", None)
            if scale is not None and scale not in COUNTRY_SCALES:
                raise ValueError(f"indicator {self.name}: country_scale {scale!r} is not one of {COUNTRY_SCALES}")

    @property
    def table(self) -> TableSpec:
        """The indicator as a TableSpec, so one schema generator serves files and indicators alike."""
        return TableSpec(name=self.name, schema="indicators", title=self.title, description=self.description,
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
