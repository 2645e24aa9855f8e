"""Who each task of the shipped plan concerns, read from the plan's text (issue 15).

The table gives, for every task, the industries and the qualifiers (the plan's
designations) whose enterprises it concerns, and the sentence of the plan it rests on.
The test probes the knowledge base with one enterprise per industry and one per
qualifier answered 是, and asserts the enterprises concerned are exactly those the
table names — and that nobody is concerned by a qualifier answered 否 or 不清楚.
"""

from __future__ import annotations

import pytest

from knowledge.loader import load_kb
from knowledge.model import KnowledgeBase

# task → (industries, qualifiers, the plan's sentence, as in the task's text)
PLAN: dict[int, tuple[frozenset[str], frozenset[str], str]] = {
    1: (frozenset(), frozenset({"relocation_2021"}),
        "已列入2021年搬迁计划的8家企业，在2021年年底前完成退城入园工作"),
    2: (frozenset({"铸造", "岩棉"}), frozenset({"coal_furnace"}),
        "全面淘汰燃煤热风炉、炉膛直径3米以下的燃料类煤气发生炉及间歇式固定床煤气发生炉，"
        "取缔以煤炭为燃料的加热炉、热处理炉、干燥炉，淘汰铸造（10吨/小时及以下）、岩棉等行业冲天炉"),
    3: (frozenset({"钢铁", "煤化工", "水泥", "铝加工", "玻璃", "耐火材料制品"}), frozenset(),
        "推进钢铁、煤化工、水泥、铝加工、玻璃、耐火材料制品等产业绿色、减量、提质发展"),
    4: (frozenset({"钢铁", "水泥", "电解铝", "玻璃", "焦化", "耐火材料制品"}), frozenset(),
        "鼓励支持钢铁、水泥、电解铝、玻璃等重点行业通过产能置换、装备大型化改造、重组整合，"
        "推进项目优化布局。推进利源新能、鑫泰能源、顺聚能源等焦化企业重组整合和装备大型化改造"),
    5: (frozenset({"铝加工", "耐火材料制品", "废旧铜铝回收", "铸造"}), frozenset(),
        "推进长葛市大周镇废旧铜铝回收行业升级改造"),
    6: (frozenset(), frozenset(),  # government: supervision of 散乱污 enterprises
        "配合生态环境部门健全落实省、市、县、乡四级联动监管机制"),
    7: (frozenset({"钢铁", "电解铝", "水泥", "平板玻璃", "煤化工", "焦化", "铸造", "铝用炭素",
                   "耐火材料制品", "铅锌冶炼"}), frozenset(),
        "全省原则上禁止新建、扩建单纯新增产能的钢铁、电解铝、水泥、平板玻璃、传统煤化工（甲醇、"
        "合成氨）、焦化、铸造、铝用炭素、耐火材料制品、铅锌冶炼（含再生铅）等高耗能、高排放和"
        "产能过剩的产业项目"),
    8: (frozenset({"钢铁", "焦化", "化工", "建材"}), frozenset(),
        "科学控制钢铁、焦化、化工、建材等行业燃料煤消耗量"),
    9: (frozenset({"洁净型煤"}), frozenset(), "推动“禁煤区”内洁净型煤企业关闭退出或搬迁"),
    10: (frozenset({"汽车"}), frozenset(), "完善新能源汽车推广应用及产业化发展政策措施"),
    11: (frozenset({"汽车"}), frozenset(),
         "在河南省行政区域内所有生产、进口、销售和注册登记的重型柴油车应符合"),
    12: (frozenset(), frozenset({"nonroad_machinery"}),
         "组织开展矿山及企业内部车（机）专项整治行动，对全省矿山进行摸排，对矿山及企业内保有的"
         "车（机）进行信息采集、排放检测"),
    13: (frozenset(), frozenset({"bulk_transport"}),
         "2021年10月31日前，完成26个行业大宗物料运输企业门禁系统建设"),
    14: (frozenset(), frozenset({"performance_graded"}),
         "配合生态环境部门规范和加强重点行业企业绩效分级管理工作"),
    15: (frozenset({"焦化"}), frozenset(), "推动实施焦化行业超低排放"),
    16: (frozenset({"铝工业", "铸造", "铁合金", "石灰", "耐火材料制品", "有色金属冶炼",
                    "有色金属压延", "玻璃", "陶瓷", "碳素"}), frozenset(),
         "玻璃、陶瓷、耐材、碳素（石墨）、有色金属冶炼及压延行业力争50%以上企业，铝工业、铁合金、"
         "铸造、石灰行业力争30%以上企业"),
    17: (frozenset({"工业涂装", "包装印刷", "汽修", "家具制造", "钢结构制造", "卷材制造"}),
         frozenset(), "积极推进工业涂装、包装印刷、汽修等行业完成源头替代"),
    18: (frozenset({"石化", "化工", "工业涂装", "包装印刷", "家具制造", "彩涂板", "皮革制品",
                    "制鞋", "汽修", "人造板"}), frozenset(),
         "家具制造、彩涂板、皮革制品、制鞋、包装印刷等以小企业为主的集群重点推动源头替代；"
         "汽修、人造板等企业集群重点推动优化整合"),
    19: (frozenset(), frozenset(),  # government: the 应急减排清单
         "配合生态环境部门建立完善重污染天气应急减排清单动态更新机制"),
    20: (frozenset({"石化", "化工", "制药", "工业涂装", "包装印刷", "钢铁", "焦化", "水泥",
                    "耐火材料制品", "陶瓷"}), frozenset(),
         "对石化、化工、制药、工业涂装、包装印刷等行业，采取调整生产负荷方式分阶段或时段实施"
         "错峰生产调控"),
    21: (frozenset({"汽车"}), frozenset(),
         "落实国家对符合条件的新能源汽车免征车辆购置税"),
    22: (frozenset({"钢铁", "纺织", "造纸", "化工", "食品", "发酵"}), frozenset(),
         "在钢铁、纺织、造纸、化工、食品、发酵等高耗水行业，开展水效“领跑者”行动"),
    23: (frozenset(), frozenset({"yellow_river_new", "yellow_river_existing"}),
         "新建排污单位自2021年3月1日起执行，现有排污单位自2022年9月1日起执行"),
    24: (frozenset(), frozenset({"soil_key_unit"}),
         "鼓励土壤污染重点监管单位因地制宜实施管道化、密闭化改造"),
    25: (frozenset(), frozenset({"soil_key_unit"}),
         "督促土壤污染重点监管单位全面落实土壤污染防治义务"),
    26: (frozenset({"有色金属冶炼", "铅酸蓄电池", "石油加工", "化工", "电镀", "制革",
                    "危险化学品"}), frozenset(),
         "有色金属冶炼、铅酸蓄电池、石油加工、化工、电镀、制革和危险化学品生产、储存、使用等企业"
         "在拆除生产设施设备、污染治理设施时"),
}

# deadlines whose audience is not their task's: (task, n-th deadline) → qualifiers, or
# None for government work
DEADLINES = {
    (4, 1): None,  # 2021年6月底前，研究制定……限制类产能装备升级改造工作方案 (材料工业处)
    (23, 1): frozenset({"yellow_river_new"}),  # 新建排污单位自2021年3月1日起执行
    (23, 2): frozenset({"yellow_river_existing"}),  # 现有排污单位自2022年9月1日起执行
}
STARTS = {(11, 1), (23, 1), (23, 2)}  # 2021年7月1日起; 自……起执行


def _fold(text: str) -> str:
    return text.translate(str.maketrans(",;()", "，；（）"))


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


def test_the_table_covers_every_task_and_quotes_the_plan(kb: KnowledgeBase) -> None:
    assert set(PLAN) == set(kb.task_numbers)
    for number, (_, _, sentence) in PLAN.items():
        assert _fold(sentence) in _fold(kb.task(number).text), number


@pytest.mark.parametrize("number", sorted(PLAN))
def test_each_task_concerns_exactly_whom_the_plan_names(kb: KnowledgeBase, number: int) -> None:
    industries, qualifiers, _ = PLAN[number]
    task = kb.task(number)
    keys = [q.key for q in kb.qualifiers]
    found_industries = {i for i in (*kb.industries, *industries) if task.concerns([i])}
    assert found_industries == industries
    found_qualifiers = {k for k in keys if task.concerns([], {k: "yes"})}
    assert found_qualifiers == qualifiers
    for answer in ("no", "unknown"):
        assert not task.concerns([], dict.fromkeys(keys, answer)), (number, answer)
    assert (number in kb.concern()) == bool(industries or qualifiers)


def test_deadlines_with_their_own_audience_and_start_dates(kb: KnowledgeBase) -> None:
    keys = [q.key for q in kb.qualifiers]
    for task in kb.tasks:
        for n, deadline in enumerate(task.deadlines, start=1):
            who = task.audience_of(deadline)
            if (task.number, n) in DEADLINES:
                expected = DEADLINES[task.number, n]
                assert who.nobody is (expected is None)
                if expected is not None:
                    assert {k for k in keys if who.concerns([], {k: "yes"})} == expected
            else:
                assert who == task.audience
            assert deadline.starts is ((task.number, n) in STARTS), (task.number, n)


def test_every_qualifier_is_used_and_rests_on_its_task(kb: KnowledgeBase) -> None:
    used = {key for task in kb.tasks for key in task.audience.qualifiers}
    assert used == {q.key for q in kb.qualifiers}
    for qualifier in kb.qualifiers:
        tasks = [n for n, (_, keys, _) in PLAN.items() if qualifier.key in keys]
        assert any(kb.task(n).clause in qualifier.source.split(" ")[0]
                   or kb.task(n).clause[:-len(str(n))] in qualifier.source for n in tasks)
