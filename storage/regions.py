"""Where an enterprise can say it is: the registration choices for Henan.

Henan has 17 prefecture-level cities, the Jiyuan demonstration zone (administered
like a city), and ten counties/cities that the province administers directly
(省直管县（市）). Environmental work in the 2021 plan is assigned to all three
kinds, so each is a registration choice of its own.
"""

from __future__ import annotations

import unicodedata

CITIES: tuple[str, ...] = (
    "郑州市",
    "开封市",
    "洛阳市",
    "平顶山市",
    "安阳市",
    "鹤壁市",
    "新乡市",
    "焦作市",
    "濮阳市",
    "许昌市",
    "漯河市",
    "三门峡市",
    "南阳市",
    "商丘市",
    "信阳市",
    "周口市",
    "驻马店市",
)

JIYUAN = "济源示范区"

DIRECT_COUNTIES: tuple[str, ...] = (
    "巩义市",
    "兰考县",
    "汝州市",
    "滑县",
    "长垣市",
    "邓州市",
    "永城市",
    "固始县",
    "鹿邑县",
    "新蔡县",
)

# The prefecture each directly administered county lies in geographically; for
# display ("巩义市（郑州）") and grouping only — approval follows the exact region.
PARENT_CITY: dict[str, str] = {
    "巩义市": "郑州市",
    "兰考县": "开封市",
    "汝州市": "平顶山市",
    "滑县": "安阳市",
    "长垣市": "新乡市",
    "邓州市": "南阳市",
    "永城市": "商丘市",
    "固始县": "信阳市",
    "鹿邑县": "周口市",
    "新蔡县": "驻马店市",
}

REGIONS: tuple[str, ...] = (*CITIES, JIYUAN, *DIRECT_COUNTIES)

# The county-level divisions (县级行政区) and statistical development zones (功能区,
# codes xx7x) of each city, from the National Bureau of Statistics' division codes
# (统计用区划代码, 2022 edition: after 2021's 偃师市→偃师区 and 孟津县+吉利区→孟津区).
# The directly administered counties are registration choices of their own and are
# not listed under their prefecture; 济源示范区 and they have no county step.
_COUNTY_TEXT: dict[str, str] = {
    "郑州市": "中原区 二七区 管城回族区 金水区 上街区 惠济区 中牟县 荥阳市 新密市 新郑市 登封市"
              " 郑州经济技术开发区 郑州高新技术产业开发区 郑州航空港经济综合实验区",
    "开封市": "龙亭区 顺河回族区 鼓楼区 禹王台区 祥符区 杞县 通许县 尉氏县",
    "洛阳市": "老城区 西工区 瀍河回族区 涧西区 偃师区 孟津区 洛龙区 新安县 栾川县 嵩县 汝阳县"
              " 宜阳县 洛宁县 伊川县 洛阳高新技术产业开发区",
    "平顶山市": "新华区 卫东区 石龙区 湛河区 宝丰县 叶县 鲁山县 郏县 舞钢市"
                " 平顶山高新技术产业开发区 平顶山市城乡一体化示范区",
    "安阳市": "文峰区 北关区 殷都区 龙安区 安阳县 汤阴县 内黄县 林州市 安阳高新技术产业开发区",
    "鹤壁市": "鹤山区 山城区 淇滨区 浚县 淇县 鹤壁经济技术开发区",
    "新乡市": "红旗区 卫滨区 凤泉区 牧野区 新乡县 获嘉县 原阳县 延津县 封丘县 卫辉市 辉县市"
              " 新乡高新技术产业开发区 新乡经济技术开发区 新乡市平原城乡一体化示范区",
    "焦作市": "解放区 中站区 马村区 山阳区 修武县 博爱县 武陟县 温县 沁阳市 孟州市"
              " 焦作城乡一体化示范区",
    "濮阳市": "华龙区 清丰县 南乐县 范县 台前县 濮阳县 河南濮阳工业园区 濮阳经济技术开发区",
    "许昌市": "魏都区 建安区 鄢陵县 襄城县 禹州市 长葛市 许昌经济技术开发区",
    "漯河市": "源汇区 郾城区 召陵区 舞阳县 临颍县 漯河经济技术开发区",
    "三门峡市": "湖滨区 陕州区 渑池县 卢氏县 义马市 灵宝市 河南三门峡经济开发区",
    "南阳市": "宛城区 卧龙区 南召县 方城县 西峡县 镇平县 内乡县 淅川县 社旗县 唐河县 新野县"
              " 桐柏县 南阳高新技术产业开发区 南阳市城乡一体化示范区",
    "商丘市": "梁园区 睢阳区 民权县 睢县 宁陵县 柘城县 虞城县 夏邑县 豫东综合物流产业聚集区"
              " 河南商丘经济开发区",
    "信阳市": "浉河区 平桥区 罗山县 光山县 新县 商城县 潢川县 淮滨县 息县 信阳高新技术产业开发区",
    "周口市": "川汇区 淮阳区 扶沟县 西华县 商水县 沈丘县 郸城县 太康县 项城市 周口临港开发区",
    "驻马店市": "驿城区 西平县 上蔡县 平舆县 正阳县 确山县 泌阳县 汝南县 遂平县"
                " 河南驻马店经济开发区",
}
COUNTIES: dict[str, tuple[str, ...]] = {
    region: tuple(_COUNTY_TEXT.get(region, "").split()) for region in REGIONS
}

# Names people still use for divisions renamed or merged since 2014.
FORMER_NAMES: dict[str, str] = {
    "偃师市": "偃师区", "孟津县": "孟津区", "吉利区": "孟津区", "开封县": "祥符区",
    "许昌县": "建安区", "陕县": "陕州区", "淮阳县": "淮阳区",
}

# The first digits of the administrative division code (GB/T 2260) in a unified social
# credit code (its characters 3–8), by registration choice: the prefecture's four
# digits, and the full six of a directly administered county (长垣 also under its
# pre-2019 code as 长垣县). 410000 (the province's own registration authority) and a
# city's 4101xx-style city-level code name no county.
DIVISION_PREFIXES: dict[str, str] = {
    "4101": "郑州市", "4102": "开封市", "4103": "洛阳市", "4104": "平顶山市",
    "4105": "安阳市", "4106": "鹤壁市", "4107": "新乡市", "4108": "焦作市",
    "4109": "濮阳市", "4110": "许昌市", "4111": "漯河市", "4112": "三门峡市",
    "4113": "南阳市", "4114": "商丘市", "4115": "信阳市", "4116": "周口市",
    "4117": "驻马店市", "4190": JIYUAN,
    "410181": "巩义市", "410225": "兰考县", "410482": "汝州市", "410526": "滑县",
    "410783": "长垣市", "410728": "长垣市", "411381": "邓州市", "411481": "永城市",
    "411525": "固始县", "411628": "鹿邑县", "411729": "新蔡县",
}
HENAN = "41"

_SUFFIXES = ("示范区", "市", "县")


def is_region(name: str) -> bool:
    """True for one of the exact registration choices in :data:`REGIONS`."""
    return name in REGIONS


def normalize_region(text: str) -> str | None:
    """Map what people type ("郑州", " 济源市 ") to a registration choice, or None.

    Users often drop the 市/县 suffix; accepting the bare name saves a round trip
    in the dialog without accepting anything ambiguous.
    """
    name = "".join(text.split())
    if is_region(name):
        return name
    stem = name
    for suffix in _SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)]
            break
    if not stem:
        return None
    for region in REGIONS:
        if any(region == stem + suffix for suffix in _SUFFIXES):
            return region
    return None


def region_of_division(division: str) -> str | None:
    """The registration choice a six-digit division code belongs to; None for codes
    that name none (the province's own, or outside Henan)."""
    return DIVISION_PREFIXES.get(division[:6]) or DIVISION_PREFIXES.get(division[:4])


def has_counties(region: str) -> bool:
    """Whether the registration asks for a county (not for 济源 or a direct county)."""
    return bool(COUNTIES.get(region))


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


_ZONE_SHORT = {"高新技术产业开发区": "高新区", "经济技术开发区": "经开区"}


def _county_keys(region: str, county: str) -> set[str]:
    """What people type for ``county``: the name, without 回族, without its 区/县/市 when
    two characters remain (新县 stays 新县), a zone without its city, or its short form."""
    city = region.removesuffix("市")
    keys = {county, county.replace("回族", "")}
    for name in list(keys):
        if name[-1] in "区县市" and len(name) >= 3 and name[:-1] != city:
            keys.add(name[:-1])  # not 安阳 for 安阳县: typed alone, that means the city
    for prefix in (region, city, "河南", "河南" + city):
        if county.startswith(prefix) and len(county) > len(prefix) + 2:
            keys.add(county[len(prefix):])
    for long, short in _ZONE_SHORT.items():
        keys |= {key.replace(long, short) for key in keys if long in key}
    if "航空港" in county:
        keys |= {"航空港区", "航空港", "空港区"}
    return keys


def match_county(region: str, text: str) -> str | None:
    """The county of ``region`` that ``text`` names (as people type it), or None."""
    typed = _fold(text)
    typed = FORMER_NAMES.get(typed, typed)
    for county in COUNTIES.get(region, ()):
        if typed in _county_keys(region, county):
            return county
    return None


def region_of_county(text: str) -> tuple[str, str] | None:
    """(region, county) of the first region whose list has what ``text`` names; a
    directly administered county gives (itself, itself). None if nowhere in Henan."""
    direct = normalize_region(text)
    if direct is not None and direct in DIRECT_COUNTIES:
        return direct, direct
    for region in REGIONS:
        county = match_county(region, text)
        if county is not None:
            return region, county
    return None


def county_problem(region: str, typed: str) -> str:
    """Why ``typed`` is not a county of ``region`` (registration and the list import
    say the same): it belongs to another region, or to none."""
    where = region_of_county(typed)
    if where is not None and where[0] in DIRECT_COUNTIES:
        return f"{where[0]}是省直管县（市），单独登记，不属于{region}。"
    if where is not None:
        return f"{where[1]}属于{where[0]}，不是{region}的县（市、区）。"
    return (f"“{typed}”不是{region}的县（市、区）。{region}的县（市、区）有："
            + "、".join(COUNTIES.get(region, ())) + "。")


def division_problem(code: str, region: str) -> str | None:
    """Why ``region`` disagrees with the credit code's division digits, or None."""
    division = code[2:8]
    if not division.startswith(HENAN):
        return f"信用代码第3至8位（{division}）表示企业不是在河南省登记的"
    found = region_of_division(division)
    if found is None or found == region:
        return None
    return f"信用代码第3至8位（{division}）表示企业在{found}登记，与“{region}”不一致"
