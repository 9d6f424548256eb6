"""The contract's regions: the 17 sido and the whole country with their KOSIS statistical codes (C1).

A fact of the schema, not of a file: the allowed region codes of every table and the row checks that need a
region's type or first year read it here. The reference table `reference.regions` ships as
`assets/sources/reference/regions.csv`; its structural check fails unless every row equals the region here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    code: str
    name_en: str
    name_ko: str
    region_type: str  # country | metropolitan | province
    valid_from_year: int
    valid_to_year: int | None = None
    name_short_ko: str = ""  # the short form the SME ministry's tables and the press use (대구, 전북)
    iso_3166_2: str = ""  # ISO 3166-2:KR (the country: KR)


REGIONS: tuple[Region, ...] = (
    Region("00", "Whole country", "전국", "country", 1949, None, "전국", "KR"),
    Region("11", "Seoul", "서울특별시", "metropolitan", 1949, None, "서울", "KR-11"),
    Region("21", "Busan", "부산광역시", "metropolitan", 1963, None, "부산", "KR-26"),
    Region("22", "Daegu", "대구광역시", "metropolitan", 1981, None, "대구", "KR-27"),
    Region("23", "Incheon", "인천광역시", "metropolitan", 1981, None, "인천", "KR-28"),
    Region("24", "Gwangju", "광주광역시", "metropolitan", 1986, None, "광주", "KR-29"),
    Region("25", "Daejeon", "대전광역시", "metropolitan", 1989, None, "대전", "KR-30"),
    Region("26", "Ulsan", "울산광역시", "metropolitan", 1997, None, "울산", "KR-31"),
    Region("29", "Sejong", "세종특별자치시", "metropolitan", 2012, None, "세종", "KR-50"),
    Region("31", "Gyeonggi", "경기도", "province", 1949, None, "경기", "KR-41"),
    Region("32", "Gangwon", "강원특별자치도", "province", 1949, None, "강원", "KR-42"),
    Region("33", "Chungbuk", "충청북도", "province", 1949, None, "충북", "KR-43"),
    Region("34", "Chungnam", "충청남도", "province", 1949, None, "충남", "KR-44"),
    Region("35", "Jeonbuk", "전북특별자치도", "province", 1949, None, "전북", "KR-45"),
    Region("36", "Jeonnam", "전라남도", "province", 1949, None, "전남", "KR-46"),
    Region("37", "Gyeongbuk", "경상북도", "province", 1949, None, "경북", "KR-47"),
    Region("38", "Gyeongnam", "경상남도", "province", 1949, None, "경남", "KR-48"),
    Region("39", "Jeju", "제주특별자치도", "province", 1949, None, "제주", "KR-49"),
)


@dataclass(frozen=True)
class RegionName:
    """The Korean name a region bore in a span of years (KOSIS labels a year's rows with the name of that year)."""

    code: str
    name_ko: str
    valid_from_year: int
    valid_to_year: int | None = None


# Renamings of the sido since they exist: 직할시 became 광역시 on 1995-01-01; 제주도 became 제주특별자치도 on
# 2006-07-01, 강원도 강원특별자치도 on 2023-06-11, 전라북도 전북특별자치도 on 2024-01-18 (a year takes the name
# KOSIS prints for it, that of the year's end). The last name of each region is its name in REGIONS.
REGION_NAMES: tuple[RegionName, ...] = (
    RegionName("00", "전국", 1949), RegionName("11", "서울특별시", 1949),
    RegionName("21", "부산직할시", 1963, 1994), RegionName("21", "부산광역시", 1995),
    RegionName("22", "대구직할시", 1981, 1994), RegionName("22", "대구광역시", 1995),
    RegionName("23", "인천직할시", 1981, 1994), RegionName("23", "인천광역시", 1995),
    RegionName("24", "광주직할시", 1986, 1994), RegionName("24", "광주광역시", 1995),
    RegionName("25", "대전직할시", 1989, 1994), RegionName("25", "대전광역시", 1995),
    RegionName("26", "울산광역시", 1997), RegionName("29", "세종특별자치시", 2012), RegionName("31", "경기도", 1949),
    RegionName("32", "강원도", 1949, 2022), RegionName("32", "강원특별자치도", 2023),
    RegionName("33", "충청북도", 1949), RegionName("34", "충청남도", 1949),
    RegionName("35", "전라북도", 1949, 2023), RegionName("35", "전북특별자치도", 2024),
    RegionName("36", "전라남도", 1949), RegionName("37", "경상북도", 1949), RegionName("38", "경상남도", 1949),
    RegionName("39", "제주도", 1949, 2005), RegionName("39", "제주특별자치도", 2006),
)


def name_in_year(code: str, year: int) -> str:
    for name in REGION_NAMES:
        if name.code == code and name.valid_from_year <= year <= (name.valid_to_year or 9999):
            return name.name_ko
    return REGION_BY_CODE[code].name_ko


REGION_BY_CODE: dict[str, Region] = {r.code: r for r in REGIONS}
REGION_CODES: tuple[str, ...] = tuple(REGION_BY_CODE)
REGION_TYPES = ("country", "metropolitan", "province")


def _normal(name: str) -> str:
    return "".join(str(name).split())


# Every name a region is printed under: its names by year, its short name, its English name; the country's totals.
_NAMES: dict[str, str] = {}
for _region in REGIONS:
    for _name in (_region.name_ko, _region.name_short_ko, _region.name_en):
        _NAMES[_normal(_name)] = _region.code
for _name in REGION_NAMES:
    _NAMES.setdefault(_normal(_name.name_ko), _name.code)
for _alias in ("전국", "계", "합계", "전체", "Whole country", "Total"):
    _NAMES.setdefault(_normal(_alias), "00")


def region_from_name(name: str) -> str | None:
    """The statistical sido code of a region named as a KOSIS table names it (대구, 대구광역시, 대구직할시, Daegu),
    or None: how make kosis-add finds a table's region axis and builds a table's own code map from getMeta."""
    return _NAMES.get(_normal(name))
