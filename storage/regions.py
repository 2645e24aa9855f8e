"""Where an enterprise can say it is: the registration choices for Henan.

Henan has 17 prefecture-level cities, the Jiyuan demonstration zone (administered
like a city), and ten counties/cities that the province administers directly
(省直管县（市）). Environmental work in the 2021 plan is assigned to all three
kinds, so each is a registration choice of its own.
"""

from __future__ import annotations

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
