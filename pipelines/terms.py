"""The terms of the data, written once: the README's section "Data terms and attribution" quotes DATA_TERMS
(tests/test_docs.py checks it word for word) and `make export` writes terms_text() as exports/TERMS.txt."""

from __future__ import annotations

import duckdb

from pipelines.version import version_line

# Plain text (no Markdown) so that the README and TERMS.txt carry the same words.
DATA_TERMS = """\
KOSIS data (schema kosis and the indicators computed from it) are public statistics served by KOSIS, the Korean
Statistical Information Service (국가통계포털) of Statistics Korea (통계청). KOSIS's guide to using its statistics
(https://stat.kosis.kr/nsistN/kosisUseGuide.do) says that KOSIS statistics are free to use, that users may use,
reuse and redistribute them freely, for non-commercial and commercial purposes alike, subject to the exceptions
the guide lists, and that the source must always be stated when they are used ("통계정보를 이용할 때는 반드시
출처를 명시해야 합니다"). Which 공공누리 (KOGL) type, if any, applies to each table was not confirmed here:
check the table's page on KOSIS. Attribution required (출처: 통계청 KOSIS, table id, date of retrieval), e.g.
"출처: 통계청 KOSIS, 101/DT_1C91, retrieved YYYY-MM-DD"; the tables and dates of this warehouse are in
kosis.snapshots (org_id, tbl_id, fetched_at, UTC).

The paper's tables (schema paper, and the bundled files PAPER/KIM2013_T1 and PAPER/KIM2013_T2, which are the
paper's Tables 1 and 2 in KOSIS form, not KOSIS data) are quoted from Kim, Taewoon (2013), "A Study on Limits to
Promoting SMEs Networking Policies for Urban Economic Development in South Korea: Centering on the Case of Daegu
City" (도시경제발전을 위한 중소기업 네트워킹 정책 활성화의 한계에 대한 연구 -대구광역시의 사례를 중심으로-),
published 2013-09-30 (https://koreascience.kr/article/JAKO201301442489219.page). Cite the paper when you use
them; each table's printed source line is in paper.catalog.

The code is under the MIT License (LICENSE); it does not change the terms of the data above.
"""


def terms_text(con: duckdb.DuckDBPyConnection | None = None) -> str:
    """DATA_TERMS, then (given a connection to the published warehouse) the KOSIS tables it holds, each with the
    attribution line to use and its dates of retrieval; the paper's figures in KOSIS form are not listed."""
    lines = [f"Data terms and attribution ({version_line()})", "", DATA_TERMS]
    if con is None:
        return "\n".join(lines)
    held = con.execute("""
        SELECT s.org_id, s.tbl_id, any_value(t.tbl_nm), min(s.fetched_at)::DATE, max(s.fetched_at)::DATE
        FROM kosis.snapshots AS s LEFT JOIN kosis.tables AS t ON t.org_id = s.org_id AND t.tbl_id = s.tbl_id
        WHERE s.origin <> 'bundled' AND s.n_loaded > 0
        GROUP BY ALL ORDER BY s.org_id, s.tbl_id""").fetchall()
    lines.append("KOSIS tables in this warehouse (attribution for each):")
    for org_id, tbl_id, name, first, last in held:
        retrieved = f"{first}" if first == last else f"{first} to {last}"
        lines.append(f"  출처: 통계청 KOSIS, {org_id}/{tbl_id} {name or ''}, retrieved {retrieved}".rstrip())
    if not held:
        lines.append("  none: no KOSIS table was loaded (the bundled files are the paper's figures, not KOSIS data)")
    return "\n".join(lines) + "\n"
