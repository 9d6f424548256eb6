"""The derived indicator tables: one module per indicator (`SPEC`), paired with its SQL file
`warehouse/sql/indicators/<name>.sql`. See `schemas/indicators/spec.py` for what a spec holds.

To add an indicator: write `schemas/indicators/<name>.py` and `warehouse/sql/indicators/<name>.sql`, and list the
module below; its asset, checks, DDL, dictionary entry, report section, charts and claims follow from the spec.
"""

from __future__ import annotations

from schemas.indicators.claim_rankings import SPEC as CLAIM_RANKING_TABLE
from schemas.indicators.claim_verdicts import SPEC as CLAIM_VERDICT_TABLE
from schemas.indicators.fiscal_independence import SPEC as FISCAL_INDEPENDENCE
from schemas.indicators.industrial_structure import SPEC as INDUSTRIAL_STRUCTURE
from schemas.indicators.land_price_gap import SPEC as LAND_PRICE_GAP
from schemas.indicators.paper_claims import SPEC as PAPER_CLAIMS
from schemas.indicators.population import SPEC as POPULATION
from schemas.indicators.rd_orientation import SPEC as RD_ORIENTATION
from schemas.indicators.sme_concentration import SPEC as SME_CONCENTRATION
from schemas.indicators.spec import CLAIM_VERDICTS, SECTORS, Claim, IndicatorSpec, Ranking, Recheck
from schemas.indicators.st_budget_dependence import SPEC as ST_BUDGET_DEPENDENCE
from schemas.indicators.st_program_mix import SPEC as ST_PROGRAM_MIX

# In the order of the report and the data dictionary.
INDICATORS: tuple[IndicatorSpec, ...] = (
    INDUSTRIAL_STRUCTURE,
    SME_CONCENTRATION,
    POPULATION,
    ST_BUDGET_DEPENDENCE,
    FISCAL_INDEPENDENCE,
    ST_PROGRAM_MIX,
    RD_ORIENTATION,
    LAND_PRICE_GAP,
)
# The claims' tables: the paper's years (paper_claims), then and now (claim_verdicts), Daegu among its peers.
CLAIM_SPECS: tuple[IndicatorSpec, ...] = (PAPER_CLAIMS, CLAIM_VERDICT_TABLE, CLAIM_RANKING_TABLE)


def all_claims() -> tuple[Claim, ...]:
    """Every claim of every spec, by id."""
    claims = sorted((c for s in (*INDICATORS, *CLAIM_SPECS) for c in s.claims), key=lambda c: c.id)
    ids = [c.id for c in claims]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"claim ids defined twice: {duplicated}")
    return tuple(claims)


def spec_named(name: str) -> IndicatorSpec | None:
    return next((s for s in (*INDICATORS, *CLAIM_SPECS) if s.name == name), None)


__all__ = ["CLAIM_RANKING_TABLE", "CLAIM_SPECS", "CLAIM_VERDICTS", "CLAIM_VERDICT_TABLE", "INDICATORS",
           "PAPER_CLAIMS", "SECTORS", "Claim", "IndicatorSpec", "Ranking", "Recheck", "all_claims", "spec_named"]
