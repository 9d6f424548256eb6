"""The paper's claims, evaluated against the warehouse: on the paper's own years (indicators.paper_claims), then
and now (indicators.claim_verdicts: the latest year the warehouse holds, the trend since the paper, every year for
claims comparing regions) and Daegu among its peers over the years (indicators.claim_rankings).

Each claim is data (schemas/indicators/: its query, and its `recheck` or why it has none); each table is validated
by the pandera schema generated from its spec and written by the warehouse's IO manager, like every indicator.
"""

import dagster as dg
import pandas as pd

from assets.common import OWNERS
from assets.indicators import AUTOMATION, _previous_rows, _validated_output, upstream_keys
from schemas.indicators import (
    CLAIM_RANKING_TABLE,
    CLAIM_VERDICT_TABLE,
    INDICATORS,
    PAPER_CLAIMS,
    Claim,
    IndicatorSpec,
    all_claims,
)
from schemas.indicators.spec import NO_LATER_DATA
from warehouse.io import WarehouseResource, warehouse_pool
from warehouse.tables import TABLE_IO_MANAGER

DAEGU = "22"
HOLDS = frozenset({"supported", "partly supported"})
NOTHING_READ = "nothing: the query read no row"

PAPER_FIGURES = "the paper's own figures"


def _year_spans(years: list[int]) -> str:
    spans, start = [], None
    for i, year in enumerate(years):
        start = year if start is None else start
        if i + 1 == len(years) or years[i + 1] != year + 1:
            spans.append(str(start) if start == year else f"{start}-{year}")
            start = None
    return ", ".join(spans)


def checked_against(con, rows_read: str) -> str:
    """What a claim was checked against, from the rows its query read (`source_table:year`, comma-separated): each
    KOSIS table with its years, or the paper's own figures (its printed tables, or them in KOSIS form)."""
    labels = dict(con.execute("SELECT id, CASE WHEN coalesce(source, 'kosis') = 'kosis' THEN coalesce(source_label, "
                              "'KOSIS table ' || org_id || '/' || tbl_id) ELSE '" + PAPER_FIGURES.replace("'", "''")
                              + " (' || org_id || '/' || tbl_id || ')' END FROM kosis.tables").fetchall())
    years: dict[str, set[int]] = {}
    for item in rows_read.split(","):
        tables, _, year = item.rpartition(":")
        for table in tables.split("+"):
            label = labels.get(table) or (f"{PAPER_FIGURES} ({table})" if table.startswith("paper.") else table)
            years.setdefault(label, set()).add(int(year))
    # KOSIS first: a claim checked against KOSIS and the paper says KOSIS before the paper
    ordered = sorted(years, key=lambda label: (label.startswith(PAPER_FIGURES), label))
    return "; ".join(f"{label}, {_year_spans(sorted(years[label]))}" for label in ordered)


# Indicators whose rows may come from KOSIS (their claims must say which rows they read).
KOSIS_FED = {f"indicators.{s.name}" for s in INDICATORS if any(src.startswith("kosis.") for src in s.sources)}


def evaluate_claims(con, claims: tuple[Claim, ...]) -> pd.DataFrame:
    rows = []
    for claim in claims:
        cursor = con.execute(claim.query)
        columns = [d[0] for d in cursor.description]
        result = cursor.fetchall()
        if len(result) != 1:
            raise ValueError(f"claim {claim.id}: its query returned {len(result)} rows, expected 1")
        reads_kosis_fed = any(t.strip() in KOSIS_FED for t in claim.tables.split(","))
        if reads_kosis_fed and "rows_read" not in columns:
            raise ValueError(f"claim {claim.id} reads an indicator fed by KOSIS: its query must return rows_read")
        values = dict(zip(columns, result[0], strict=True))
        observed, verdict = values["observed"], values["verdict"]
        # a claim that reads no indicator fed by KOSIS reads the paper's tables only
        against = f"{PAPER_FIGURES} ({claim.tables})" if not reads_kosis_fed else (
            checked_against(con, values["rows_read"]) if values["rows_read"] else "nothing: the query read no row")
        rows.append({"claim_id": claim.id, "section": claim.section, "claim_text": claim.text,
                     "observed": observed if observed is not None else "no data", "verdict": verdict,
                     "checked_against": against, "evidence_tables": claim.tables, "query": claim.query})
    return pd.DataFrame(rows)



def _one_row(con, sql: str, what: str, **params: int) -> dict:
    """The single row of a claim's query, with only the parameters it names ($year, $from_year)."""
    used = {name: value for name, value in params.items() if f"${name}" in sql}
    cursor = con.execute(sql, used) if used else con.execute(sql)
    columns = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    if len(rows) != 1:
        raise ValueError(f"{what}: its query returned {len(rows)} rows, expected 1")
    values = dict(zip(columns, rows[0], strict=True))
    missing = {"observed", "verdict", "rows_read"} - set(values)
    if missing:
        raise ValueError(f"{what}: its query must return {sorted(missing)}")
    return values


def change(then: str, now: str) -> str:
    """From the paper's verdict to a later one (holds: supported or partly supported)."""
    if now == NO_LATER_DATA:
        return NO_LATER_DATA
    if "not evaluable" in (then, now):
        return "not evaluable"
    return {(True, True): "still holds", (True, False): "no longer holds", (False, True): "newly holds",
            (False, False): "still does not hold"}[(then in HOLDS, now in HOLDS)]


def _indicator_of(tables: str) -> str:
    return next(t.strip() for t in tables.split(",") if t.strip().startswith("indicators."))


def later_sources(con, indicator: str) -> str:
    """The KOSIS tables of the catalog that would carry an indicator's later years."""
    name = indicator.removeprefix("indicators.")
    tables = [label for label, in con.execute(
        "SELECT coalesce(source_label, 'KOSIS table ' || org_id || '/' || tbl_id) || ' (' || id || ')' "
        "FROM kosis.tables WHERE coalesce(source, 'kosis') = 'kosis' "
        "AND list_contains(string_split(replace(used_by, ' ', ''), ','), ?) ORDER BY coalesce(priority, 0), id",
        [name]).fetchall()]
    return ", ".join(tables)


def _no_later_data(con, claim: Claim, years: list[int]) -> str:
    read = claim.recheck.tables if claim.recheck and claim.recheck.tables else claim.tables
    indicator, last = _indicator_of(read), claim.paper_years[1]
    if not years:
        held = f"{indicator} holds no year at all"
    elif max(years) == last:
        held = f"the latest year {indicator} holds is the paper's own, {last}"
    else:
        held = f"{indicator} holds no year after {last} (its latest: {max(years)})"
    sources = later_sources(con, indicator)
    return (f"no later data: {held}; later years come from {sources} once loaded (with a KOSIS_API_KEY, or from "
            f"files in the KOSIS inbox)" if sources else f"no later data: {held}")


def evaluate_then_and_now(con, claims: tuple[Claim, ...], paper: pd.DataFrame) -> pd.DataFrame:
    """Every claim on every period it can be judged on: the paper's (its row of `paper`, indicators.paper_claims),
    the latest year its data hold, the trend since the paper and, for claims comparing regions, every year."""
    verdicts = dict(zip(paper["claim_id"], paper["verdict"], strict=True))
    rows: list[dict] = []

    def add(claim: Claim, period: str, year: int, judged: str, values: dict, query: str | None,
            from_year: int | None = None) -> None:
        read = values.get("rows_read")
        rows.append({"claim_id": claim.id, "period": period, "year": year, "from_year": from_year, "judged": judged,
                     "observed": values["observed"] if values["observed"] is not None else "no data",
                     "verdict": values["verdict"],
                     "change": None if period == "paper" else change(verdicts[claim.id], values["verdict"]),
                     "checked_against": values.get("checked_against") or (
                         checked_against(con, read) if read else NOTHING_READ),
                     "query": query})

    for claim in claims:
        first, last = claim.paper_years
        row = paper.loc[paper["claim_id"] == claim.id].iloc[0]
        add(claim, "paper", last, claim.text, {"observed": row["observed"], "verdict": row["verdict"],
                                                "checked_against": row["checked_against"]}, claim.query, first)
        recheck = claim.recheck
        if recheck is None:
            add(claim, "latest", last, "the claim on a year after the paper's",
                {"observed": f"no later data: {claim.not_refreshed}", "verdict": NO_LATER_DATA,
                 "checked_against": "nothing: no later edition of the paper's table is catalogued"}, None)
            continue
        years = sorted(int(y) for y, in con.execute(recheck.years_query).fetchall() if y is not None)
        later = [y for y in years if y > last]
        # each year's row of the recheck, run once: the latest, and every year for a claim comparing regions
        judged = {year: _one_row(con, recheck.query, f"claim {claim.id} on {year}", year=year)
                  for year in (years if recheck.ranking is not None else later[-1:])}
        if not later:
            add(claim, "latest", max(years) if years else last, recheck.text,
                {"observed": _no_later_data(con, claim, years), "verdict": NO_LATER_DATA,
                 "checked_against": "nothing: no year after the paper's"}, recheck.query)
        else:
            latest = later[-1]
            add(claim, "latest", latest, recheck.text, judged[latest], recheck.query)
            if recheck.trend_query:
                add(claim, "since paper", latest, recheck.trend_text or "",
                    _one_row(con, recheck.trend_query, f"claim {claim.id}'s trend since {last}", year=latest,
                             from_year=last), recheck.trend_query, from_year=last)
        if recheck.ranking is not None:
            for year in years:
                add(claim, "each year", year, recheck.text, judged[year], recheck.query)
    return pd.DataFrame(rows, columns=[c.name for c in CLAIM_VERDICT_TABLE.columns])


def evaluate_rankings(con, claims: tuple[Claim, ...]) -> pd.DataFrame:
    """Daegu among its peers: each claim's ranking query, every year the data hold."""
    frames = []
    for claim in claims:
        ranking = claim.recheck.ranking if claim.recheck else None
        if ranking is None:
            continue
        frame = con.execute(ranking.query).df()
        frames.append(frame.assign(claim_id=claim.id, measure=ranking.value,
                                   is_daegu=frame["region_code"].eq(DAEGU).fillna(False).astype(bool)))
    columns = [c.name for c in CLAIM_RANKING_TABLE.columns]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out["value"] = out["value"].astype("float64")
    out["rank"] = out["rank"].astype("Int64")
    return out[columns].sort_values(["claim_id", "year", "series"]).reset_index(drop=True)


CLAIM_SOURCES = "schemas/indicators/*.py claims"
INDICATOR_KEYS = [dg.AssetKey(["indicators", s.name]) for s in INDICATORS]


def build_claims_asset(spec: IndicatorSpec, deps: list[dg.AssetKey], compute, description: str,
                       check: str) -> dg.AssetsDefinition:
    """A claims table: computed from the warehouse by `compute(con)`, validated and written like an indicator."""
    key = dg.AssetKey(["indicators", spec.name])

    @dg.asset(key=key, deps=deps, group_name="indicators", kinds={"duckdb", "sql"}, owners=OWNERS,
              pool=warehouse_pool(), io_manager_key=TABLE_IO_MANAGER, description=f"`indicators.{spec.name}`: "
              f"{description}", check_specs=[dg.AssetCheckSpec("schema", asset=key, blocking=True, description=check)],
              automation_condition=AUTOMATION)
    def _claims(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        with warehouse.read_connection() as con:
            frame = compute(con)
            previous = _previous_rows(con, spec) if frame.empty else 0
        if "verdict" in frame:
            context.log.info(f"{spec.name}: {frame['verdict'].value_counts().to_dict()}")
        yield from _validated_output(spec, frame, CLAIM_SOURCES, previous_rows=previous, disagreements=None)

    return _claims


def _paper_rows(con) -> pd.DataFrame:
    return con.execute("SELECT claim_id, observed, verdict, checked_against FROM indicators.paper_claims").df()


PAPER_CLAIMS_KEY = dg.AssetKey(["indicators", PAPER_CLAIMS.name])


def build_claim_assets() -> list[dg.AssetsDefinition]:
    """The claims tables (built by the definitions builder, not at import)."""
    return [
        build_claims_asset(
            PAPER_CLAIMS,
            [*INDICATOR_KEYS,
             *upstream_keys(("paper.daegu_plans", "paper.rd_programs_by_manager", "reference.regions"))],
            lambda con: evaluate_claims(con, all_claims()),
            "the paper's quantitative claims on the paper's own years, each evaluated by a query (the `claims` of the "
            "indicator specs, schemas/indicators/) with the observed numbers and a verdict: supported, partly "
            "supported, contradicted or not evaluable.",
            "ERROR: one row per claim, verdicts from the allowed list."),
        build_claims_asset(
            CLAIM_VERDICT_TABLE, [PAPER_CLAIMS_KEY, *INDICATOR_KEYS, dg.AssetKey(["reference", "regions"])],
            lambda con: evaluate_then_and_now(con, all_claims(), _paper_rows(con)),
            "the paper's claims then and now: each claim's verdict on the paper's years, on the latest year the "
            "warehouse holds (or 'no later data' and why), on the trend since the paper and, for claims comparing "
            "Daegu with other regions, on every year; with the direction of change.",
            "ERROR: one row per claim, period and year; verdicts and changes from the allowed lists."),
        build_claims_asset(
            CLAIM_RANKING_TABLE, [*INDICATOR_KEYS, dg.AssetKey(["reference", "regions"])],
            lambda con: evaluate_rankings(con, all_claims()),
            "Daegu among its peers: for each claim comparing regions, every region's (or group's) value and rank in "
            "every year the data hold.",
            "ERROR: one row per claim, year and series."),
    ]
