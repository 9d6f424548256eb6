"""The catalog's KOSIS tables as the loopback server serves them, in the service's shape.

Table ids, item ids and codes are the catalog's where public evidence gives them (DT_1C81 T1 and Z10,
DT_1K52F03 T1/T2 and industry C, DT_1B040A3 T20 and administrative sido codes); where it gives only the
Korean names (DT_1C91's items and activities, the size classes), the codes below are made up and the names
are the service's, so the catalog's name-based roles are what finds them. Values are generated from simple
formulas that the tests recompute.

Shapes from real responses (docs/kosis-evidence.md says where each was seen):
- DT_1B040A3 serves every year under today's codes, 51 강원특별자치도 and 52 전북특별자치도 included (2014 rows
  so named in a99621522-cell/dalgubul-ai-note data/kosis/population-sido.csv; codes in Changwon-Moon/claude
  data/kosis-probe-raw.json);
- the SME ministry's DT_BR_A001/B001 hold the industry on C1 (IM, IM_C), the region on C2 in the ministry's own
  codes with short names (15142C501 전국 .. 15142C504 대구 .. 15142C518 세종) and the firm size on C3 (16142T209
  전체기업, T002 중소기업, T003 중소기업 외, ...), item T001, DT "*" and "-" among the numbers
  (dalgubul-ai-note data/kosis/sme-stats-sido.meta.json and sme-stats-sido.csv);
- UNIT_NM "백만원 %p" on DT_1C91's rows (dalgubul-ai-note data/kosis/grdp-sido-industry.csv);
- DT_1YL20921 (재정자립도) holds the sido and the sigungu on C1, Gwangju and Jeonnam as 1224 and 1236, items T10
  (세입과목개편전) and T20 (세입과목개편후), unit % (kimkij/contest data/kosis_fiscal_sigungu_2023.csv).
"""

from __future__ import annotations

from tests.kosis_server import KosisTable

STAT_SIDO = [("00", "전국"), ("11", "서울특별시"), ("21", "부산광역시"), ("22", "대구광역시"), ("23", "인천광역시"),
             ("37", "경상북도")]
ADMIN_SIDO = [("00", "전국"), ("11", "서울특별시"), ("26", "부산광역시"), ("27", "대구광역시"), ("28", "인천광역시"),
              ("47", "경상북도"), ("51", "강원특별자치도"), ("52", "전북특별자치도")]
ADMIN_TO_STAT = {"00": "00", "11": "11", "26": "21", "27": "22", "28": "23", "47": "37", "51": "32", "52": "35"}
# The SME ministry's region codes (C2 of DT_BR_A001/B001) for the statistical sido above, with its short names.
SME_MINISTRY_SIDO = [("15142C501", "전국", "00"), ("15142C502", "서울", "11"), ("15142C503", "부산", "21"),
                     ("15142C504", "대구", "22"), ("15142C505", "인천", "23"), ("15142C515", "경북", "37")]
REGIONS = [code for code, _ in STAT_SIDO]

GRDP_2020_YEARS = [str(y) for y in range(2015, 2024)]
GRDP_EARLIER_YEARS = [str(y) for y in range(2008, 2017)]  # overlaps 2015-2016 with the 2020 base
SIZE_2020_YEARS = ["2020", "2021", "2022"]
SIZE_2006_YEARS = [str(y) for y in range(2010, 2020)]
SME_ACT_YEARS = ["2020", "2021", "2022", "2023"]  # one year past the census here: that year comes from these
SME_ACT_SIZES = [("16142T209", "전체기업"), ("T002", "중소기업"), ("T003", "중소기업 외"), ("T004", "소기업"),
                 ("T001", "중기업"), ("16142T2524", "소상공인"), ("T005", "소상공인 제외")]
POPULATION_YEARS = [str(y) for y in range(2010, 2024)]
SEND_DE = "20241220"

SIZE_CLASSES = [("00", "계"), ("01", "1-4명"), ("02", "5-9명"), ("03", "10-19명"), ("04", "20-49명"),
                ("05", "50-99명"), ("06", "100-299명"), ("07", "300-499명"), ("08", "500-999명"),
                ("09", "1000명이상")]


def grdp_parts(region: str, year: int, base: str) -> dict[str, int]:
    """Value added by sector, million won: primary, mining, manufacturing, everything else."""
    r = REGIONS.index(region) + 1
    shift = 7 if base == "2020" else 0  # the two bases differ, so the tests can tell which was used
    primary = 500 * r + 10 * (year - 2000)
    mining = 100 * r
    manufacturing = 20_000 + 1_000 * r - 150 * (year - 2008) + shift
    other = 80_000 + 2_000 * r + 900 * (year - 2008)
    return {"primary": primary, "mining": mining, "manufacturing": manufacturing, "other": other}


def grdp_share(region: str, year: int, base: str) -> dict[str, float]:
    p = grdp_parts(region, year, base)
    total = sum(p.values())
    return {"primary": round(100 * p["primary"] / total, 1),  # shares to the spec's precision, one decimal
            "secondary": round(100 * (p["mining"] + p["manufacturing"]) / total, 1),
            "tertiary": round(100 * p["other"] / total, 1)}


def grdp_2020() -> KosisTable:
    activities = [("G00", "지역내총생산(시장가격)"), ("G01", "총부가가치(기초가격)"), ("G02", "농업 임업 및 어업"),
                  ("G03", "광업"), ("G04", "광제조업"), ("G05", "제조업"), ("G06", "건설업"), ("G07", "도매 및 소매업"),
                  ("G08", "순생산물세")]

    def value(itm: str, cs: tuple[str, ...], prd: str) -> str | None:
        p = grdp_parts(cs[0], int(prd), "2020")
        gva = sum(p.values())
        by_code = {"G00": gva + 5_000, "G01": gva, "G02": p["primary"], "G03": p["mining"],
                   "G04": p["mining"] + p["manufacturing"], "G05": p["manufacturing"], "G06": p["other"] // 4,
                   "G07": p["other"] - p["other"] // 4, "G08": 5_000}
        number = by_code[cs[1]]
        return str(number if itm == "N" else number * 9 // 10)  # real: nominal less 10 %

    return KosisTable(org_id="101", tbl_id="DT_1C91", tbl_nm="시도별 경제활동별 지역내총생산",
                      levels=[STAT_SIDO, activities], level_names=["시도별", "경제활동별"],
                      items=[("N", "명목", "백만원 %p"), ("R", "실질", "백만원 %p")], prd_se="Y",
                      periods=GRDP_2020_YEARS, value_fn=value, lst_chn_de=SEND_DE)


def grdp_earlier() -> KosisTable:
    activities = [("Z10", "총부가가치(기초가격)"), ("A", "농림어업"), ("B", "광업"), ("C", "제조업"),
                  ("S", "서비스업")]

    def value(itm: str, cs: tuple[str, ...], prd: str) -> str | None:
        p = grdp_parts(cs[0], int(prd), "earlier")
        by_code = {"Z10": sum(p.values()), "A": p["primary"], "B": p["mining"], "C": p["manufacturing"],
                   "S": p["other"]}
        return f"{by_code[cs[1]]:,}" if itm == "T1" else "-"

    return KosisTable(org_id="101", tbl_id="DT_1C81", tbl_nm="시도별 경제활동별 지역내총생산",
                      levels=[STAT_SIDO, activities], level_names=["시도별", "경제활동별"],
                      items=[("T1", "명목", "백만원"), ("T2", "실질", "백만원")], prd_se="Y",
                      periods=GRDP_EARLIER_YEARS, value_fn=value, lst_chn_de=SEND_DE)


def establishments(region: str, year: int, size: str, item: str) -> int:
    r = REGIONS.index(region) + 1
    per_class = {"01": 5_000, "02": 1_200, "03": 600, "04": 300, "05": 100, "06": 50, "07": 8, "08": 4, "09": 2}
    firms = per_class[size] * r + (year - 2010) * 3
    if item == "T1":
        return firms
    workers_per_firm = {"01": 2, "02": 7, "03": 14, "04": 30, "05": 70, "06": 170, "07": 390, "08": 700, "09": 2_000}
    return firms * workers_per_firm[size]


def sme_shares(region: str, year: int) -> tuple[float, float]:
    sme = ("01", "02", "03", "04", "05", "06")
    every = (*sme, "07", "08", "09")
    firms = (sum(establishments(region, year, s, "T1") for s in sme), sum(establishments(region, year, s, "T1")
                                                                         for s in every))
    workers = (sum(establishments(region, year, s, "T2") for s in sme), sum(establishments(region, year, s, "T2")
                                                                           for s in every))
    return round(100 * firms[0] / firms[1], 1), round(100 * workers[0] / workers[1], 1)


def size_table(tbl_id: str, years: list[str]) -> KosisTable:
    def value(itm: str, cs: tuple[str, ...], prd: str) -> str | None:
        if cs[1] != "C":
            return "X"  # other industries: suppressed here, as the service marks confidential cells
        if cs[2] == "00":
            return str(sum(establishments(cs[0], int(prd), s, itm) for s, _ in SIZE_CLASSES[1:]))
        return str(establishments(cs[0], int(prd), cs[2], itm))

    return KosisTable(org_id="101", tbl_id=tbl_id, tbl_nm="시도·산업·종사자규모별 사업체수, 종사자수",
                      levels=[STAT_SIDO, [("0", "전체 산업"), ("C", "제조업")], SIZE_CLASSES],
                      level_names=["시도별", "산업별", "종사자규모별"],
                      items=[("T1", "사업체수", "개"), ("T2", "종사자수", "명")], prd_se="Y", periods=years,
                      value_fn=value, lst_chn_de=SEND_DE)


def population(region_admin: str, year: int) -> int:
    base = {"00": 50_500_000, "11": 9_800_000, "26": 3_400_000, "27": 2_450_000, "28": 2_800_000, "47": 2_600_000,
            "51": 1_540_000, "52": 1_870_000}
    return base[region_admin] + 1_000 * (year - 2010)


def population_table() -> KosisTable:
    def value(itm: str, cs: tuple[str, ...], prd: str) -> str | None:
        return str(population(cs[0], int(prd)))

    return KosisTable(org_id="101", tbl_id="DT_1B040A3", tbl_nm="행정구역(시군구)별 성별 인구수",
                      levels=[ADMIN_SIDO], level_names=["행정구역(시군구)별"],
                      items=[("T20", "총인구수", "명"), ("T21", "남자인구수", "명")], prd_se="Y",
                      periods=POPULATION_YEARS, value_fn=value, lst_chn_de=SEND_DE)


def sme_act(region: str, year: int, item: str) -> dict[str, int]:
    """Manufacturing firms (A001) or workers (B001) by the SME Act's size classes, for a statistical sido."""
    r = REGIONS.index(region) + 1
    small_merchants, small_other, medium, other = 4_000 * r + 10 * (year - 2020), 900 * r, 300 * r, 20 * r
    if item == "workers":
        small_merchants, small_other, medium, other = small_merchants * 2, small_other * 15, medium * 90, other * 600
    small = small_merchants + small_other
    sme = small + medium
    return {"16142T209": sme + other, "T002": sme, "T003": other, "T004": small, "T001": medium,
            "16142T2524": small_merchants, "T005": small_other}


def sme_act_shares(region: str, year: int) -> tuple[float, float]:
    firms, workers = sme_act(region, year, "firms"), sme_act(region, year, "workers")
    return (round(100 * firms["T002"] / firms["16142T209"], 1), round(100 * workers["T002"] / workers["16142T209"], 1))


def sme_ministry_table(tbl_id: str, item: str) -> KosisTable:
    stat = {code: stat for code, _, stat in SME_MINISTRY_SIDO}

    def value(itm: str, cs: tuple[str, ...], prd: str) -> str | None:
        industry, region, size = cs
        if industry == "IM":
            return "*"  # the all-industry rows: not requested by the catalog (IM_C only)
        if region == "15142C515" and size == "16142T2524":
            return "*"  # suppressed, as the service prints it
        if region == "15142C505" and size == "T005" and prd == "2020":
            return "-"
        # a test may recode the regions (a code the catalog does not know): the numbers stay those of the region
        sido = stat.get(region) or stat.get("15142C5" + region[-2:]) or "22"
        return str(sme_act(sido, int(prd), item)[size])

    name = "기업수" if item == "firms" else "종사자수"
    return KosisTable(org_id="142", tbl_id=tbl_id, tbl_nm=f"시도별·산업중분류별·기업규모별 {name}",
                      levels=[[("IM", "전산업"), ("IM_C", "C.제조업(10~34)")],
                              [(code, short) for code, short, _ in SME_MINISTRY_SIDO], SME_ACT_SIZES],
                      level_names=["산업별(10차)중분류별", "지역별", "기업규모별"],
                      items=[("T001", name, "개" if item == "firms" else "명")], prd_se="Y", periods=SME_ACT_YEARS,
                      value_fn=value, lst_chn_de=SEND_DE)


FISCAL_YEARS = [str(y) for y in range(2011, 2024)]
# Sido rows as the service codes them (1224 광주, 1236 전남) and two sigungu rows, which the catalog does not request.
FISCAL_C1 = [("00", "전국"), ("11", "서울특별시"), ("21", "부산광역시"), ("22", "대구광역시"), ("23", "인천광역시"),
             ("1224", "광주광역시"), ("31", "경기도"), ("1236", "전라남도"), ("37", "경상북도"),
             ("22010", "중구"), ("1224010", "동구")]
FISCAL_BASE = {"00": 50.1, "11": 81.2, "21": 53.2, "22": 52.3, "23": 59.6, "1224": 46.2, "31": 65.7, "1236": 28.7,
               "37": 29.7, "22010": 29.6, "1224010": 17.3}


def fiscal_independence(code: str, year: int, item: str) -> float:
    """재정자립도 of a C1 code: T10 (before the reform of revenue classes), T20 a few points lower."""
    value = FISCAL_BASE[code] - 0.1 * (2023 - year)
    return round(value if item == "T10" else value - 5.0, 2)


def fiscal_table() -> KosisTable:
    def value(itm: str, cs: tuple[str, ...], prd: str) -> str | None:
        return str(fiscal_independence(cs[0], int(prd), itm))

    return KosisTable(org_id="101", tbl_id="DT_1YL20921", tbl_nm="재정자립도(시도/시/군/구)", levels=[FISCAL_C1],
                      level_names=["행정구역별"], items=[("T10", "재정자립도(세입과목개편전)", "%"),
                                                      ("T20", "재정자립도(세입과목개편후)", "%")],
                      prd_se="Y", periods=FISCAL_YEARS, value_fn=value, lst_chn_de=SEND_DE)


def live_tables() -> list[KosisTable]:
    return [grdp_2020(), grdp_earlier(), size_table("DT_1K52F03", SIZE_2020_YEARS),
            size_table("DT_1K52B03", SIZE_2006_YEARS), population_table(),
            sme_ministry_table("DT_BR_A001", "firms"), sme_ministry_table("DT_BR_B001", "workers"), fiscal_table()]
