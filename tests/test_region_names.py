"""Every indicator keyed by region carries the region's names beside its code, as reference.regions has them."""

from __future__ import annotations

from schemas.indicators import INDICATORS
from tests.conftest import query


def test_region_keyed_indicators_carry_english_and_korean_names(baseline) -> None:
    keyed = [s.name for s in INDICATORS if "region_code" in s.key]
    assert set(keyed) >= {"industrial_structure", "sme_concentration", "st_budget_dependence", "population"}
    for name in keyed:
        columns = [r[0] for r in query(baseline, "SELECT column_name FROM duckdb_columns() WHERE schema_name = "
                                                 "'indicators' AND table_name = ? ORDER BY column_index", [name])]
        assert columns[:3] == ["region_code", "region_name", "region_name_ko"], name
        # the Korean name is the one of the row's year (reference.region_names: 전라북도 in 2011)
        mismatched = query(baseline, f"SELECT count(*) FROM indicators.{name} i JOIN reference.regions g "
                                     "USING (region_code) JOIN reference.region_names n ON n.region_code = "
                                     "i.region_code AND i.year BETWEEN n.valid_from_year AND "
                                     "coalesce(n.valid_to_year, 9999) WHERE i.region_name IS DISTINCT FROM g.name_en "
                                     "OR i.region_name_ko IS DISTINCT FROM n.name_ko")
        assert mismatched == [(0,)], name
    assert query(baseline, "SELECT DISTINCT region_name, region_name_ko FROM indicators.sme_concentration "
                           "WHERE region_code = '22'") == [("Daegu", "대구광역시")]


def test_a_region_is_named_as_it_was_in_the_rows_year(baseline) -> None:
    names = dict(query(baseline, "SELECT region_code, region_name_ko FROM indicators.st_budget_dependence "
                                 "WHERE region_code IN ('32', '35')"))
    assert names == {"32": "강원도", "35": "전라북도"}  # 2011: before they became special self-governing provinces
    assert query(baseline, "SELECT name_short_ko, iso_3166_2 FROM reference.regions WHERE region_code = '22'") == [
        ("대구", "KR-27")]
