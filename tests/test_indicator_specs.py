"""One indicator, one place: its spec module (`schemas/indicators/<name>.py`: table, unit, formula, sources,
measures, charts, claims) and its SQL file (`warehouse/sql/indicators/<name>.sql`). Nothing about an indicator
is defined elsewhere, so these checks hold every pair to what the rest of the code derives from it."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from assets.report import DRAW
from schemas.indicators import CLAIM_SPECS, INDICATORS, PAPER_CLAIMS, all_claims
from schemas.indicators.spec import Chart, Claim
from schemas.registry import FILE_TABLES

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "schemas" / "indicators"
SQL_DIR = ROOT / "warehouse" / "sql" / "indicators"
SPECS = (*INDICATORS, *CLAIM_SPECS)


def test_every_spec_module_is_registered_and_every_indicator_has_its_sql_file() -> None:
    modules = {p.stem for p in SPEC_DIR.glob("*.py")} - {"__init__", "spec"}
    assert modules == {s.name for s in SPECS}
    assert {p.name for p in SQL_DIR.glob("*.sql")} == ({f"{s.name}.sql" for s in INDICATORS}
                                                       | {s.comparison for s in INDICATORS if s.comparison})
    for spec in INDICATORS:  # the comparison of an indicator is named after it
        assert spec.comparison is None or spec.comparison.startswith(f"{spec.name}_"), spec.comparison


def test_no_indicator_is_described_outside_its_pair() -> None:
    """The report draws from the specs: no chart function or measure table names an indicator."""
    report = (ROOT / "assets" / "report.py").read_text(encoding="utf-8")
    for spec in INDICATORS:
        assert spec.name not in report, f"assets/report.py names {spec.name}"
    assert not (ROOT / "warehouse" / "sql" / "claims.yaml").exists()


@pytest.mark.parametrize("spec", INDICATORS, ids=lambda s: s.name)
def test_charts_and_measures_name_columns_of_their_table(spec) -> None:
    columns = {c.name for c in spec.columns}
    assert set(spec.measures) <= columns
    assert spec.charts, f"{spec.name} draws no chart"
    for chart in spec.charts:
        assert type(chart) in DRAW, f"{type(chart).__name__} has no drawing"
        named = []
        for f in fields(chart):
            value = getattr(chart, f.name)
            if f.name in ("value", "series", "sort_by", "item", "place", "highlight", "ratio", "reference"):
                named.append(value)
            elif f.name == "columns":
                named += list(value)
            elif f.name == "parts":
                named += [column for column, _, _ in value]
        assert {n for n in named if n} <= columns, (spec.name, chart)


def test_every_chart_kind_has_a_drawing() -> None:
    assert set(Chart.__args__) == set(DRAW)


def test_claims_are_unique_and_read_the_tables_they_name() -> None:
    claims = all_claims()
    assert [c.id for c in claims] == sorted({c.id for c in claims})
    known = ({f"indicators.{s.name}" for s in INDICATORS} | {f"{t.schema}.{t.name}" for t in FILE_TABLES})
    for claim in claims:
        tables = [t.strip() for t in claim.tables.split(",")]
        assert set(tables) <= known, (claim.id, tables)
        for table in tables:
            assert re.search(rf"\b{re.escape(table)}\b", claim.query), (claim.id, table)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_claims_belong_to_the_indicator_they_read(spec) -> None:
    """A claim sits in the spec of the first table it reads (claims on the paper's own tables: paper_claims)."""
    for claim in spec.claims:
        assert isinstance(claim, Claim)
        first = claim.tables.split(",")[0].strip()
        owner = first.split(".")[1] if first.startswith("indicators.") else PAPER_CLAIMS.name
        assert owner == spec.name, (claim.id, first)


def test_every_indicator_is_titled_in_words_and_a_bad_title_or_country_scale_is_refused() -> None:
    """The report heads each section with its spec's title (the one source for names): in words, distinct."""
    import dataclasses

    from schemas.indicators.spec import RegionLines

    specs = (*INDICATORS, *CLAIM_SPECS)
    titles = [s.title for s in specs]
    assert len(set(titles)) == len(titles)
    for spec in specs:
        assert " " in spec.title and "_" not in spec.title and spec.title != spec.name, spec.name
    with pytest.raises(ValueError, match="in words"):
        dataclasses.replace(INDICATORS[0], title="industrial_structure")
    with pytest.raises(ValueError, match="country_scale"):
        dataclasses.replace(INDICATORS[0], charts=(RegionLines(value="share_pct", title="x", country_scale="left"),))


def test_the_country_gets_its_own_scale_for_levels_not_for_shares() -> None:
    from assets.report import country_apart
    from schemas.indicators import spec_named
    from schemas.indicators.spec import RankedBars

    population, sme = spec_named("population"), spec_named("sme_concentration")
    assert all(country_apart(c, "population") for c in population.charts)  # persons: a level
    assert not any(country_apart(c, "sme_concentration") for c in sme.charts)  # % of employment: a share
    assert not country_apart(spec_named("industrial_structure").charts[0], "industrial_structure")
    # the spec's own option wins over the unit
    assert not country_apart(RankedBars(value="population", title="x", country_scale="shared"), "population")
    assert country_apart(RankedBars(value="sme_worker_pct", title="x", country_scale="own"), "sme_concentration")
