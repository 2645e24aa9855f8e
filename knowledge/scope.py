"""Where a plan applies, and the questions that name somewhere else.

A provincial plan answers for its own province only: a question about another
province's rules is out of scope, however well its words match a fact.
"""

from __future__ import annotations

PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆",
    "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
)
_SUFFIXES = ("省", "市", "自治区", "地区", "的", "那边", "那里", "规定", "标准", "要求", "企业")


def other_region(text: str, home: str) -> str | None:
    """The first province named in ``text`` that is not ``home`` (e.g. "河南省"), if any.

    A bare name counts only when followed by a place suffix or a rule word, so
    "北京2022年冬奥会" in the plan's own basis is not read as another province's
    question ("北京的VOCs标准" is).
    """
    if not home:
        return None
    for name in PROVINCES:
        if name in home:
            continue
        start = text.find(name)
        while start != -1:
            rest = text[start + len(name) :]
            if not rest or rest.startswith(_SUFFIXES):
                return name
            start = text.find(name, start + 1)
    return None


# Henan's prefecture-level cities, 济源示范区 and the province-administered
# counties (cities), by the names people type. A question naming one of them can
# be checked against a fact's list of places ("周口有没有列入…").
HENAN_PLACES = (
    "郑州", "开封", "洛阳", "平顶山", "安阳", "鹤壁", "新乡", "焦作", "濮阳", "许昌", "漯河",
    "三门峡", "南阳", "商丘", "信阳", "周口", "驻马店", "济源", "巩义", "兰考", "汝州", "滑县",
    "长垣", "邓州", "永城", "固始", "鹿邑", "新蔡", "长葛",
)
