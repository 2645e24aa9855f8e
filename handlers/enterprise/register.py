"""/register: bind this Telegram account to an enterprise (pending until staff approve).

Steps: company name → credit code → city (buttons) → county (optional; from the
city's list) → industries (multi-select, or typed) → the plan's qualifiers that matter
for those industries (是 / 否 / 不清楚, one at a time; see
``KnowledgeBase.deciding_qualifiers``) → contact name → phone → summary with 确认 /
修改 / 取消.

The code is checked against the register when it is typed: a code another account
registered is said at once (the rest becomes a claim, kept for staff). A city that
disagrees with the code's division digits is asked once more; if the user confirms
it (a company that moved keeps its code), the application goes to the staff of both
regions (see ``storage.enterprises``).
"""

from __future__ import annotations

from telegram import Update

from handlers.core.context import Context
from handlers.core.dialog_shape import (
    CONFIRM,
    EDITING,
    Action,
    Ask,
    Flow,
    Go,
    Next,
    Pick,
    Screen,
    Step,
    Summary,
)
from handlers.core.dialogs import END, Dialog, clear_draft, draft, in_rows, send, small_int
from handlers.core.industries import Reading, read_industries
from handlers.core.telegram_html import escape
from handlers.staff import approvals
from knowledge.model import IndustryGroup, Qualifier
from storage.credit_code import check_credit_code
from storage.enterprises import (
    Outcome,
    Registration,
    Status,
    enterprise_of_user,
    find_by_code,
    register,
)
from storage.fields import FieldError, parse_line, parse_phone, visible
from storage.qualifiers import WORDS
from storage.regions import (
    COUNTIES,
    DIRECT_COUNTIES,
    HENAN,
    REGIONS,
    has_counties,
    match_county,
    normalize_region,
    region_of_county,
    region_of_division,
)

DIALOG = Dialog(name="register", command="register", title="企业登记", prefix="rg")
PREFIX = DIALOG.prefix

# Conversation states (persisted as JSON: plain strings).
NAME = "NAME"
CODE = "CODE"
CITY = "CITY"
COUNTY = "COUNTY"
INDUSTRIES = "INDUSTRIES"
QUALIFIERS = "QUALIFIERS"
CONTACT = "CONTACT"
PHONE = "PHONE"

NAME_LIMIT = 100
COUNTY_LIMIT = 30
CONTACT_LIMIT = 30

ALREADY_BOUND = "您的账号已绑定企业“{name}”（{status}），无需重复登记。"
STATUS_WORDS = {"pending": "待审核", "approved": "已通过", "rejected": "未通过"}
CODE_TAKEN = (
    "该统一社会信用代码已由其他账号登记。您可以继续填写，提交后作为绑定申请，"
    "由本平台工作人员核实后决定是否通过；通过前不能填报进展。"
)
PRESS_OR_TYPE = "请点击下方按钮，或输入按钮上的文字（如“{label}”）。"
PHONE_PROMPT = "第7步：请输入联系电话（手机号，或带区号的固定电话如 0371-12345678）。"


def choices(context: Context) -> tuple[IndustryGroup, ...]:
    """The KB's industry choices (overlapping industries grouped), in KB order."""
    return context.bot_data.kb.industry_choices


def _chosen_choices(context: Context) -> list[IndustryGroup]:
    chosen = set(draft(context, DIALOG).get("industries") or ())
    return [c for c in choices(context) if set(c.members) <= chosen]


def _set_industries(context: Context, members: set[str]) -> None:
    """Store the chosen industries in the KB's order (stable, comparable)."""
    order = context.bot_data.kb.industries
    draft(context, DIALOG)["industries"] = [n for n in order if n in members]


# --- qualifiers ----------------------------------------------------------------------

ANSWER_WORDS = {  # typed answers beyond the buttons' own labels (是 / 否 / 不清楚)
    "yes": ("是", "是的", "对", "有", "属于", "yes", "y"),
    "no": ("否", "不是", "没有", "无", "不属于", "no", "n"),
    "unknown": ("不清楚", "不知道", "不确定", "不了解"),
}


def _deciding(context: Context) -> tuple[Qualifier, ...]:
    industries = draft(context, DIALOG).get("industries") or ()
    return context.bot_data.kb.deciding_qualifiers(industries)


def _answers(context: Context) -> dict[str, str]:
    data = draft(context, DIALOG)
    answers = data.get("qualifiers")
    if not isinstance(answers, dict):
        answers = data["qualifiers"] = {}
    return answers


def _open_qualifiers(context: Context) -> list[Qualifier]:
    answers = _answers(context)
    return [q for q in _deciding(context) if q.key not in answers]


def _qualifier_prompt(context: Context) -> Screen:
    waiting = _open_qualifiers(context)
    asked = _deciding(context)
    if not waiting:  # shown only after a change of industries left nothing to ask
        return "第5步（补充）：没有需要回答的问题了，请点“完成”。", [[
            ("完成", f"{PREFIX}:q:done")]]
    number = len(asked) - len(waiting) + 1
    row = [(WORDS[value], f"{PREFIX}:q:{value}") for value in ("yes", "no", "unknown")]
    return (f"第5步（补充 {number}/{len(asked)}）：{escape(waiting[0].question)}\n"
            "（用于确定哪些任务涉及贵企业；不确定可点“不清楚”，以后可由工作人员更正。）",
            [row])


def _answer(context: Context, value: str) -> Go:
    waiting = _open_qualifiers(context)
    if waiting and value in WORDS:
        _answers(context)[waiting[0].key] = value
    return Ask(QUALIFIERS) if len(waiting) > 1 else None


async def _pressed_answer(update: Update, context: Context, tail: str) -> Go:
    return _answer(context, tail)


def _typed_answer(context: Context, text: str) -> str | FieldError:
    word = text.strip().strip("。.!！").lower()
    for value, words in ANSWER_WORDS.items():
        if word in words:
            return value
    return FieldError("请点击“是”“否”或“不清楚”回答。")


def _reask_qualifiers(context: Context) -> str | None:
    """From the edit menu: forget the answers, so each question is asked again."""
    if not _deciding(context):
        return "所选行业没有需要补充回答的问题。"
    _answers(context).clear()
    return None


def _division_warning(code: str | None, city: str | None) -> str | None:
    """Why ``city`` disagrees with the credit code's division digits, or None."""
    if not code or not city:
        return None
    division = code[2:8]
    if not division.startswith(HENAN):
        return (f"信用代码第3至8位（{division}）表示企业不是在河南省登记的。"
                f"如确为{city}的企业，请再选一次“{city}”继续；否则请核对信用代码。")
    region = region_of_division(division)
    if region is None or region == city:
        return None
    return (f"信用代码第3至8位（{division}）表示企业在{region}登记，与所选的“{city}”不一致。"
            f"选错了请重新选择；如企业已迁至{city}，请再选一次“{city}”继续，"
            f"申请将同时交{region}和{city}的工作人员核实。")


# --- prompts -------------------------------------------------------------------------


def _name_prompt(context: Context) -> Screen:
    return ("<b>企业登记</b>（共7步，随时可发送 /cancel 取消）\n\n"
            "第1步：请输入企业全称（与营业执照一致）。", [])


def _city_prompt(context: Context) -> Screen:
    buttons = [(region, f"{PREFIX}:city:{i}") for i, region in enumerate(REGIONS)]
    return "第3步：请选择企业所在地市（省直管县（市）单独列出）：", in_rows(buttons, 3)


def _county_prompt(context: Context) -> Screen:
    city = str(draft(context, DIALOG).get("city") or "")
    example = "、".join(COUNTIES.get(city, ())[:2]) or "中原区"
    return (f"第4步：请输入企业在{escape(city)}所在的县（市、区）或开发区，"
            f"例如 {escape(example)}；不需要可点“跳过”。", [[("跳过", f"{PREFIX}:skip")]])


def _industries_prompt(context: Context) -> Screen:
    shown = "、".join(c.name for c in _chosen_choices(context)) or "（尚未选择）"
    return ("第5步：请选择企业所属行业（可多选，再点一次取消；也可以直接输入行业名称），"
            f"选好后点“完成”。\n已选：{escape(shown)}", [])


def _after(context: Context, state: str) -> str:
    """The step after ``state``: the summary when the user is correcting one field."""
    data = draft(context, DIALOG)
    if state == INDUSTRIES and _open_qualifiers(context):
        return QUALIFIERS  # new industries can make new questions matter, editing or not
    if data.get(EDITING) and not (state == CITY and data.get("county_pending")):
        data.pop("county_pending", None)
        return CONFIRM
    order = [NAME, CODE, CITY, COUNTY, INDUSTRIES, QUALIFIERS, CONTACT, PHONE, CONFIRM]
    following = order[order.index(state) + 1]
    if following == COUNTY and not has_counties(str(data.get("city") or "")):
        data["county"] = None
        return _after(context, COUNTY)
    if following == QUALIFIERS and not _open_qualifiers(context):
        return _after(context, QUALIFIERS)
    if following == CONFIRM:
        data.pop("county_pending", None)
    return following


# --- steps ---------------------------------------------------------------------------


async def _start(update: Update, context: Context) -> Go:
    user = update.effective_user
    if user is None:
        return END
    membership = enterprise_of_user(context.bot_data.db, user.id)
    if membership is not None:
        status = STATUS_WORDS.get(membership.account.status.value, "")
        await send(update, context, ALREADY_BOUND.format(
            name=escape(membership.enterprise.name), status=status))
        return END
    clear_draft(context, DIALOG)
    draft(context, DIALOG)
    return None


def _code(context: Context, text: str) -> str | FieldError:
    result = check_credit_code(text)
    return result.code if result.ok and result.code else FieldError(result.error or "")


def _set_code(context: Context, code: str) -> Go:
    data = draft(context, DIALOG)
    data["code"] = code
    registered = find_by_code(context.bot_data.db, code)
    data["claim"] = registered is not None and registered.status is not Status.REJECTED
    return Next(CODE_TAKEN if data["claim"] else None)


def _set_city(context: Context, city: str) -> Go:
    data = draft(context, DIALOG)
    warning = _division_warning(data.get("code"), city)
    confirmed = f"{city}:{data.get('code')}"
    if warning and data.get("mismatch_confirmed") != confirmed:
        data["mismatch_confirmed"] = confirmed  # the same city again goes on
        return Ask(CITY, warning)
    if data.get(EDITING) and data.get("city") != city:
        data["county_pending"] = True  # a new city needs its county again
        data["county"] = None
    data["city"] = city
    if data.get("county_pending") and has_counties(city):
        data.pop("county_pending", None)
        return Ask(COUNTY)
    data.pop("county_pending", None)
    return None


async def _pressed_city(update: Update, context: Context, tail: str) -> Go:
    index = small_int(tail)
    if index is None or index >= len(REGIONS):
        return Ask(CITY, "请点选下方按钮中的地市。")
    return _set_city(context, REGIONS[index])


def _typed_city(context: Context, text: str) -> str | FieldError:
    city = normalize_region(text.strip())
    if city is None:
        return FieldError(f"没有找到“{text.strip()[:20]}”，"
                          "请点选下方按钮中的地市或省直管县（市）。")
    return city


def _set_county(context: Context, typed: str) -> Go:
    data = draft(context, DIALOG)
    city = str(data.get("city") or "")
    county = match_county(city, typed)
    if county is not None:
        data["county"] = county
        return None
    where = region_of_county(typed)
    if where is not None and where[0] in DIRECT_COUNTIES:
        data["county_pending"] = True  # should the user pick a city with counties again
        return Ask(CITY, f"{where[0]}是省直管县（市），单独登记：请在下方直接选择“{where[0]}”。")
    if where is not None:
        error = f"{where[1]}属于{where[0]}，不是{city}的县（市、区）。"
    else:
        error = (f"“{typed}”不是{city}的县（市、区）。{city}的县（市、区）有："
                 + "、".join(COUNTIES.get(city, ())) + "。")
    return Ask(COUNTY, error + "请重新输入，或点“跳过”。")


async def _skip_county(update: Update, context: Context, _tail: str) -> Go:
    draft(context, DIALOG)["county"] = None
    return None


def _no_county(context: Context) -> str | None:
    city = draft(context, DIALOG).get("city")
    return None if has_counties(str(city or "")) else f"{city}不需要填写县（市、区）。"


def _toggle_industry(context: Context, index: int) -> None:
    chosen = set(draft(context, DIALOG).get("industries") or ())
    members = set(choices(context)[index].members)
    _set_industries(context, chosen - members if members <= chosen else chosen | members)


def _industries_done(context: Context) -> Go:
    return None if draft(context, DIALOG).get("industries") else Ask(
        INDUSTRIES, "请至少选择一个行业。")


def _typed_industries(context: Context, reading: Reading) -> Go:
    """Typed industry names (one, or several separated by 、): added to the choice."""
    chosen = set(draft(context, DIALOG).get("industries") or ())
    for choice in reading.found:
        chosen |= set(choice.members)
    _set_industries(context, chosen)
    problems = [f"没有找到“{part[:20]}”这个行业" for part in reading.unknown]
    problems += [f"“{part[:20]}”可能是：" + "、".join(c.name for c in options) + "，请写得具体一些"
                 for part, options in reading.ambiguous.items()]
    added = "、".join(c.name for c in reading.found)
    note = f"已选上：{added}。" if added else None
    if problems:
        error = "；".join(problems) + "。请点击下方按钮选择，或输入方案中的行业名称。"
        return Ask(INDUSTRIES, error, note)
    return Ask(INDUSTRIES, note=note)


async def confirm(update: Update, context: Context) -> Go:
    user = update.effective_user
    assert user is not None
    data = draft(context, DIALOG)
    missing = [key for key in ("name", "code", "city", "industries", "contact", "phone")
               if not data.get(key)]
    if missing:  # only after a lost draft; start over rather than store half a record
        clear_draft(context, DIALOG)
        await send(update, context, "登记信息不完整，请重新发送 /register 登记。")
        return END
    try:
        registration = register(
            context.bot_data.db,
            user_id=user.id,
            name=data["name"],
            credit_code=data["code"],
            city=data["city"],
            county=data.get("county"),
            industries=data["industries"],
            contact_name=data["contact"],
            phone=data["phone"],
            now=context.bot_data.now(),
            qualifiers=_chosen_answers(context),
        )
    except ValueError as exc:
        return Ask(CONFIRM, f"无法提交：{exc}")
    clear_draft(context, DIALOG)
    await send(update, context, outcome_text(registration))
    if registration.outcome is not Outcome.ALREADY_BOUND:
        await approvals.notify_deciders(context, registration,
                                        applicant=visible(user.full_name))
    return END


def _chosen_answers(context: Context) -> dict[str, str]:
    """The answers to the questions that matter for the chosen industries (an answer
    given before the industries changed and no longer asked is dropped)."""
    answers = _answers(context)
    return {q.key: answers[q.key] for q in _deciding(context) if q.key in answers}


def summary(context: Context) -> str:
    data = draft(context, DIALOG)
    county = data.get("county") or "—"
    industries = "、".join(c.name for c in _chosen_choices(context))
    lines = [
        "<b>登记信息</b>",
        f"企业名称：{escape(str(data.get('name', '')))}",
        f"信用代码：{escape(str(data.get('code', '')))}",
        f"所在地市：{escape(str(data.get('city', '')))}",
        f"县（市、区）：{escape(str(county))}",
        f"所属行业：{escape(industries)}",
        *(f"{escape(q.name)}：{WORDS[value]}" for q in _deciding(context)
          if (value := _chosen_answers(context).get(q.key)) is not None),
        f"联系人：{escape(str(data.get('contact', '')))}",
        f"联系电话：{escape(str(data.get('phone', '')))}",
    ]
    if data.get("claim"):
        lines.append("（该信用代码已由其他账号登记，提交后为绑定申请）")
    division = str(data.get("code", ""))[2:8]
    region = region_of_division(division)
    if region is not None and region != data.get("city"):
        lines.append(f"⚠️ 信用代码显示在{escape(region)}登记，与所在地市不一致，"
                     "将同时交两地工作人员核实。")
    elif division and not division.startswith(HENAN):
        lines.append("⚠️ 信用代码不是在河南省登记的，工作人员将核实。")
    return "\n".join(lines)


def outcome_text(registration: Registration) -> str:
    name = escape(registration.enterprise.name)
    if registration.outcome is Outcome.ALREADY_BOUND:
        status = STATUS_WORDS.get(registration.account.status.value, "")
        return ALREADY_BOUND.format(name=name, status=status)
    if registration.outcome is Outcome.CLAIM:
        return (f"“{name}”已由其他账号登记。您的绑定申请已提交，由本平台工作人员核实，"
                "结果会通知您；通过后才能填报进展。")
    return (f"✅ 已提交“{name}”的登记申请，正在等待本平台工作人员审核，结果会通知您。"
            "审核通过后即可用 /report 填报进展。")


FLOW = Flow(DIALOG, _start, (
    Step(NAME, _name_prompt, key="name", edit="企业名称",
         parse=lambda c, text: parse_line(text, label="企业名称", limit=NAME_LIMIT)),
    Step(CODE, lambda c: ("第2步：请输入18位<b>统一社会信用代码</b>（见营业执照）。", []),
         parse=_code, accept=_set_code, edit="信用代码"),
    Step(CITY, _city_prompt, parse=_typed_city, accept=_set_city, edit="所在地市",
         actions=(Action("city", _pressed_city, tail=True),)),
    Step(COUNTY, _county_prompt, accept=_set_county, edit="县（市、区）", on_edit=_no_county,
         parse=lambda c, text: parse_line(text, label="县（市、区）名称", limit=COUNTY_LIMIT),
         actions=(Action("skip", _skip_county, toast="已跳过"),)),
    Step(INDUSTRIES, _industries_prompt, edit="所属行业",
         parse=lambda c, text: read_industries(text, choices(c), c.bot_data.kb.aliases),
         accept=_typed_industries,
         pick=Pick("ind", lambda c: [(i, choice.name) for i, choice in enumerate(choices(c))],
                   lambda c: [i for i, choice in enumerate(choices(c))
                              if choice in _chosen_choices(c)],
                   _toggle_industry, _industries_done, per_row=4)),
    Step(QUALIFIERS, _qualifier_prompt, parse=_typed_answer, accept=_answer,
         edit="认定情况", on_edit=_reask_qualifiers,
         actions=(Action("q", _pressed_answer, tail=True),)),
    Step(CONTACT, lambda c: ("第6步：请输入联系人姓名。", []), key="contact", edit="联系人",
         parse=lambda c, text: parse_line(text, label="联系人姓名", limit=CONTACT_LIMIT)),
    Step(PHONE, lambda c: (PHONE_PROMPT, []), key="phone", edit="联系电话",
         parse=lambda c, text: parse_phone(text)),
), summary=Summary(summary, confirm, footer="\n\n请核对以上信息。",
                   hint=PRESS_OR_TYPE.format(label="确认提交"),
                   edit_hint=PRESS_OR_TYPE.format(label="联系电话")), after=_after)
conversation = FLOW.conversation
