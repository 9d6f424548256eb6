"""R&D orientation: research-oriented against firm-oriented bodies, in Daegu's programs and in national
R&D investment."""

from __future__ import annotations

from schemas.indicators.spec import Claim, GroupedBars, IndicatorSpec, share, src
from schemas.registry import Column, Measure, year

CHARTS = (
    GroupedBars(
        columns=("research_oriented_pct", "firm_oriented_pct", "intermediary_pct", "other_pct"),
        title="Research- vs firm-oriented R&D",
        x_title="The paper's table, year",
        y_title="Share of R&D programs or investment, %",
        caption="Table 8: % of Daegu's R&D programs by managing body; Table 9: % of national R&D investment by "
        "research body.",
    ),
)

# docs/paper-successors.md: what was searched for the annual successor of Table 9, and what adding it needs.
RD_BY_BODY_SUCCESSOR = ("Table 9 (national R&D investment by research body, National Science & Technology "
                        "Commission 2011b) has annual successors, but none is in the catalog yet "
                        "(docs/paper-successors.md says what was searched and what adding one needs); Table 8 is a "
                        "one-off policy document. The claim is not judged on later years.")

SPEC = IndicatorSpec(
    name="rd_orientation",
    title='R&D orientation: research-oriented or firm-oriented support',
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
    measures={
        'research_oriented_pct': Measure('Research-oriented (universities, public research institutes)', '%', 1),
        'firm_oriented_pct': Measure('Firm-oriented (firms incl. SMEs and large firms)', '%', 1),
        'intermediary_pct': Measure('Intermediary (firm support organizations)', '%', 1),
        'other_pct': Measure('Other bodies', '%', 1),
        'unclassified_bodies': Measure('Unclassified bodies', 'bodies', 0),
    },
    charts=CHARTS,
    claims=(
        Claim(
            id='C18',
            section='3.3 Limits of regional innovation and S&T policies',
            text='Around 70% of national R&D investment was used in public R&D institutes and universities.',
            tables='indicators.rd_orientation',
            sql="""
        SELECT string_agg(year || ': ' || research_oriented_pct || '%', ', ' ORDER BY year) AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN bool_and(abs(research_oriented_pct - 70) <= 2.5) THEN 'supported'
                    WHEN bool_or(abs(research_oriented_pct - 70) <= 2.5) THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict
        FROM indicators.rd_orientation WHERE source_table = 'Table 9'
        """,
            paper_years=(2010, 2011),
            not_refreshed=RD_BY_BODY_SUCCESSOR,
        ),
        Claim(
            id='C19',
            section='3.3 Limits of regional innovation and S&T policies',
            text=('Regional and national S&T programs focus on universities and research institutes rather than '
                  'firms.'),
            tables='indicators.rd_orientation',
            sql="""
        SELECT string_agg(source_table || ' ' || year || ': research ' || research_oriented_pct || '% vs firms '
                          || firm_oriented_pct || '%', '; ' ORDER BY source_table, year) AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN bool_and(research_oriented_pct > firm_oriented_pct) THEN 'supported'
                    WHEN bool_or(research_oriented_pct > firm_oriented_pct) THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict
        FROM indicators.rd_orientation
        """,
            paper_years=(2010, 2013),
            not_refreshed=RD_BY_BODY_SUCCESSOR,
        ),
    ),
)
