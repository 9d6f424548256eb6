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


REGIONS: tuple[Region, ...] = (
    Region("00", "Whole country", "전국", "country", 1949, None),
    Region("11", "Seoul", "서울특별시", "metropolitan", 1949, None),
    Region("21", "Busan", "부산광역시", "metropolitan", 1963, None),
    Region("22", "Daegu", "대구광역시", "metropolitan", 1981, None),
    Region("23", "Incheon", "인천광역시", "metropolitan", 1981, None),
    Region("24", "Gwangju", "광주광역시", "metropolitan", 1986, None),
    Region("25", "Daejeon", "대전광역시", "metropolitan", 1989, None),
    Region("26", "Ulsan", "울산광역시", "metropolitan", 1997, None),
    Region("29", "Sejong", "세종특별자치시", "metropolitan", 2012, None),
    Region("31", "Gyeonggi", "경기도", "province", 1949, None),
    Region("32", "Gangwon", "강원특별자치도", "province", 1949, None),
    Region("33", "Chungbuk", "충청북도", "province", 1949, None),
    Region("34", "Chungnam", "충청남도", "province", 1949, None),
    Region("35", "Jeonbuk", "전북특별자치도", "province", 1949, None),
    Region("36", "Jeonnam", "전라남도", "province", 1949, None),
    Region("37", "Gyeongbuk", "경상북도", "province", 1949, None),
    Region("38", "Gyeongnam", "경상남도", "province", 1949, None),
    Region("39", "Jeju", "제주특별자치도", "province", 1949, None),
)
REGION_BY_CODE: dict[str, Region] = {r.code: r for r in REGIONS}
REGION_CODES: tuple[str, ...] = tuple(REGION_BY_CODE)
REGION_TYPES = ("country", "metropolitan", "province")
