"""What kind of answer a question asks for: a date, an office, a standard, a figure…

These are facts about how people ask in Chinese, not about any one plan, so
they live in code; the plan's own words live in the YAML.
"""

from __future__ import annotations

import re

INTENT_PATTERNS: dict[str, tuple[str, ...]] = {
    "when": ("什么时候", "啥时候", "何时", "哪天", "几号", "几月", "哪一年", "哪年", "时间",
             "期限", "截止", "时限", "节点", "日期", "多久", "多长时间", "最晚", "最迟",
             "之前", "以前", "前完成", "起执行", "开始执行", "实施时间", "deadline", "到期"),
    "who": ("哪个处", "哪个部门", "哪个单位", "哪个科室", "哪个司", "哪个局", "谁负责", "谁管",
            "归谁", "归哪", "找谁", "找哪", "问谁", "联系谁", "谁来", "由谁", "负责部门",
            "负责单位", "责任单位", "责任处室", "牵头", "主管部门", "对接", "负责处室", "谁主抓",
            "哪个处室", "哪个部门负责", "管这个", "哪个口", "哪些处", "哪几个处", "什么处",
            "哪些部门", "什么部门", "哪些单位负责", "处室是", "哪些处室", "谁印发", "谁发的",
            "谁出台", "谁制定", "谁发布"),
    "standard": ("标准", "国标", "限值", "限量", "技术规范", "gb", "执行什么", "符合什么",
                 "依据哪个", "技术要求"),
    "target": ("多少", "比例", "目标", "%", "几个", "几台", "几家", "多大", "率", "数量", "指标",
               "达到什么", "要达到", "任务量", "级别", "几级"),
    "ban": ("淘汰", "禁止", "取缔", "不能", "能不能", "能否", "可以吗", "可不可以", "还能",
            "允许", "是否可以", "让不让", "关停", "还可以", "继续用", "继续使用", "保留",
            "新建", "扩建", "上马", "要拆", "限制", "行不行", "行不", "行吗", "中不中", "可以不",
            "会不会", "要不要", "需不需要", "用不用", "是否需要", "是否要"),
    "list": ("哪些", "哪几", "名单", "包括", "涉及", "范围", "清单", "都有", "有几个", "分别",
             "哪一", "哪两", "哪三", "哪四", "哪五", "哪个市", "哪些市", "哪个地方", "哪些地方",
             "哪个县"),
    "how": ("怎么", "如何", "措施", "要求", "怎样", "做法", "办法", "处理", "应该", "需要做",
            "咋办", "咋", "干什么", "做什么", "干啥", "做啥", "咋说", "怎么说", "说了啥", "有啥",
            "开展什么", "推荐", "建议", "用什么"),
    "what": ("是什么", "什么是", "啥是", "指什么", "内容", "介绍", "讲什么", "什么意思", "含义",
             "文号", "哪个文件", "是个啥", "是啥", "什么文件", "啥文件", "管什么", "关于什么",
             "叫什么", "什么名字", "啥名", "啥", "什么"),
}

_PATTERNS = {
    intent: re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    for intent, words in INTENT_PATTERNS.items()
}

# Words that carry no subject: greetings, fillers, pronouns, question particles.
FILLERS = ("请问", "你好", "您好", "麻烦", "一下", "我们厂", "我们公司", "我们企业", "我们单位",
           "我厂", "我司", "我们", "我", "你们", "咱们", "这个", "那个", "这种", "那种", "的", "了",
           "吗", "呢", "啊", "吧", "呀", "嘛", "么", "是", "有", "在", "和", "与", "及", "还",
           "要", "会", "都", "就", "想", "问", "下", "个", "们", "用", "对", "把", "被", "给",
           "谢谢", "帮忙", "帮我", "看看", "知道", "告诉", "?", "!", ",", ".", "、", "。", "？",
           "！", "，", "~", "…", "-", "/", "|", ":", "：", "“", "”", "\"", "'")


def detect_intents(text: str) -> frozenset[str]:
    """The intents whose cue words occur in the (normalised) question."""
    return frozenset(intent for intent, pattern in _PATTERNS.items() if pattern.search(text))


def cue_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of intent cue words, so coverage can count them as understood."""
    spans: list[tuple[int, int]] = []
    for pattern in _PATTERNS.values():
        spans.extend(m.span() for m in pattern.finditer(text))
    return spans


def without_cues(text: str, filler: str = "") -> str:
    """``text`` with its cue words replaced by ``filler``: what it asks about, not how."""
    keep = list(text)
    for start, end in cue_spans(text):
        keep[start:end] = [filler] * (end - start)
    return "".join(keep)
