"""`indicators.paper_claims.checked_against` is derived from the rows each claim's query read, not from the sources
of the whole indicator: a KOSIS year elsewhere does not change what a claim about 2011 was checked against."""

from __future__ import annotations

import duckdb

from assets.claims import evaluate_claims
from schemas.indicators import all_claims
from tests.conftest import Built


def against(con) -> dict[str, str]:
    frame = evaluate_claims(con, all_claims())
    return dict(zip(frame["claim_id"], frame["checked_against"], strict=True))


def test_a_claim_says_what_the_rows_it_read_came_from(built_copy: Built) -> None:
    con = duckdb.connect(str(built_copy.db))
    try:
        offline = against(con)
        assert offline["C06"] == offline["C07"] == "the paper's own figures (PAPER/KIM2013_T2), 2011"
        assert offline["C08"] == "the paper's own figures (paper.daegu_plans)"
        assert offline["C20"] == "nothing: the query read no row"
        # KOSIS rows of another year (2021): the claims about 2011 still read the paper's figures only
        con.execute("INSERT INTO indicators.sme_concentration BY NAME SELECT * REPLACE (2021 AS year, "
                    "'manufacturing_by_size' AS source_table) FROM indicators.sme_concentration WHERE year = 2011")
        assert against(con)["C06"] == "the paper's own figures (PAPER/KIM2013_T2), 2011"
        # a KOSIS row of the claim's year: the claim says so, beside the paper's rows it also read
        con.execute("UPDATE indicators.sme_concentration SET source_table = 'manufacturing_by_size_2006' "
                    "WHERE year = 2011 AND region_code = '22'")
        now = against(con)
        assert now["C06"] == now["C07"] == ("KOSIS table 101/DT_1K52B03, 2011; "
                                            "the paper's own figures (PAPER/KIM2013_T2), 2011")
    finally:
        con.close()
