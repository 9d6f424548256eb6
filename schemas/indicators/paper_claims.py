"""The paper's claims: the table of every claim's verdict, and the claims about the paper's own tables
that no indicator derives (Daegu's plans, R&D programs by managing body)."""

from __future__ import annotations

from schemas.indicators.spec import CLAIM_VERDICTS, Claim, IndicatorSpec
from schemas.registry import Column

PLANS_ONE_OFF = ("Table 4 (Daegu City's development plans of 2012 and 2013) is a one-off policy document: no "
                 "statistical series continues it, so the claim is not judged on later years.")

SPEC = IndicatorSpec(
    name="paper_claims",
    title="The paper's claims, checked against the warehouse",
    unit="verdict",
    formula="one SQL query per claim (the `claims` of each spec in schemas/indicators/) returns the observed "
        "numbers and a verdict",
    sources=("indicators.*", "paper.*"),
    description="Quantitative claims of the paper's text, each evaluated against the warehouse.",
    key=("claim_id",),
    columns=(
        Column("claim_id", "VARCHAR", "Claim identifier"),
        Column("section", "VARCHAR", "Section of the paper"),
        Column("claim_text", "VARCHAR", "The claim, quoted or closely paraphrased"),
        Column("observed", "VARCHAR", "What the warehouse shows"),
        Column("verdict", "VARCHAR", " | ".join(CLAIM_VERDICTS), allowed=CLAIM_VERDICTS),
        Column("checked_against", "VARCHAR", "What the claim was checked against, derived from the rows its query "
               "read: KOSIS tables and years, or the paper's own figures"),
        Column("evidence_tables", "VARCHAR", "Tables the query reads"),
        Column("query", "VARCHAR", "The SQL that evaluated the claim"),
    ),
    claims=(
        Claim(
            id='C08',
            section='3.2 Urban development policies relying on exogenous strategies',
            text=("Daegu City's 2012 development plan put the expansion of investment attracting as the first sub-"
                  'policy.'),
            tables='paper.daegu_plans',
            sql="""
        SELECT coalesce(max('2012 item 1: ' || sub_policy), 'no 2012 plan') AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN bool_or(sub_policy ILIKE '%investment attract%') THEN 'supported' ELSE 'contradicted' END AS verdict
        FROM paper.daegu_plans WHERE year = 2012 AND item_no = 1
        """,
            paper_years=(2012, 2012),
            not_refreshed=PLANS_ONE_OFF,
        ),
        Claim(
            id='C09',
            section='3.2 Urban development policies relying on exogenous strategies',
            text="The investment-attracting strategy was also shown in Daegu City's 2013 plan.",
            tables='paper.daegu_plans',
            sql="""
        SELECT coalesce(string_agg(DISTINCT '2013 item ' || item_no || ': ' || sub_policy, '; ')
                        FILTER (WHERE sub_policy ILIKE '%investment attract%'), 'no investment-attracting sub-policy in 2013')
               AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN bool_or(sub_policy ILIKE '%investment attract%') THEN 'supported' ELSE 'contradicted' END AS verdict
        FROM paper.daegu_plans WHERE year = 2013
        """,
            paper_years=(2013, 2013),
            not_refreshed=PLANS_ONE_OFF,
        ),
        Claim(
            id='C17',
            section='3.3 Limits of regional innovation and S&T policies',
            text=("Daegu City's R&D programs were mainly managed by universities (44.6%), firm support "
                  'organizations (25.9%) and public research institutes (19.4%).'),
            tables='paper.rd_programs_by_manager',
            sql="""
        WITH r AS (SELECT managing_body, share_pct, rank() OVER (ORDER BY share_pct DESC) AS rnk
                   FROM paper.rd_programs_by_manager)
        SELECT string_agg(rnk || '. ' || managing_body || ' ' || share_pct || '%', ', ' ORDER BY rnk) AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN list_sort(list(managing_body) FILTER (WHERE rnk <= 3))
                         = ['Firm support organizations', 'Public research institutes', 'Universities'] THEN 'supported'
                    ELSE 'contradicted' END AS verdict
        FROM r
        """,
            paper_years=(2013, 2013),
            not_refreshed=("Table 8 (the R&D programs of Daegu City by managing body) is a one-off policy "
                           "document: no statistical series continues it, so the claim is not judged on later "
                           "years."),
        ),
    ),
)
