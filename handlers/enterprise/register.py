"""/register: bind this Telegram account to an enterprise (pending until staff approve).

Steps: company name → credit code → city (buttons) → county (optional) → industries
(multi-select) → contact name → phone → summary with 确认 / 修改 / 取消.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers.core.callback_queries import acknowledge
from handlers.core.context import Context
from handlers.core.dialogs import (
    END,
    Dialog,
    callback_tail,
    clear_draft,
    close_buttons,
    conversation_handler,
    dialog_step,
    draft,
    in_rows,
    keyboard,
    send,
    text_of,
)
from handlers.core.telegram_html import escape
from handlers.staff import approvals
from storage.credit_code import check_credit_code
from storage.enterprises import Outcome, Registration, enterprise_of_user, register
from storage.fields import FieldError, parse_line, parse_phone
from storage.regions import DIRECT_COUNTIES, REGIONS, normalize_region

DIALOG = Dialog(name="register", command="register", title="企业登记")
PREFIX = "rg"

# Conversation states (persisted as JSON: plain strings).
NAME = "NAME"
CODE = "CODE"
CITY = "CITY"
COUNTY = "COUNTY"
INDUSTRIES = "INDUSTRIES"
CONTACT = "CONTACT"
PHONE = "PHONE"
CONFIRM = "CONFIRM"
EDIT = "EDIT"

NAME_LIMIT = 100
COUNTY_LIMIT = 30
CONTACT_LIMIT = 30

EDITABLE: tuple[tuple[str, str], ...] = (
    (NAME, "企业名称"),
    (CODE, "信用代码"),
    (CITY, "所在地市"),
    (COUNTY, "县（市、区）"),
    (INDUSTRIES, "所属行业"),
    (CONTACT, "联系人"),
    (PHONE, "联系电话"),
)

ALREADY_BOUND = "您的账号已绑定企业“{name}”（{status}），无需重复登记。"
STATUS_WORDS = {"pending": "待审核", "approved": "已通过", "rejected": "未通过"}


def industries_of(context: Context) -> tuple[str, ...]:
    """The KB's industry list (the multi-select's choices)."""
    return context.bot_data.kb.industries


# --- prompts -------------------------------------------------------------------------


def _prompt(context: Context, state: str) -> tuple[str, InlineKeyboardMarkup | None]:
    data = draft(context, DIALOG)
    if state == NAME:
        return ("<b>企业登记</b>（共7步，随时可发送 /cancel 取消）\n\n"
                "第1步：请输入企业全称（与营业执照一致）。", None)
    if state == CODE:
        return "第2步：请输入18位<b>统一社会信用代码</b>（见营业执照）。", None
    if state == CITY:
        buttons = [(region, f"{PREFIX}:city:{i}") for i, region in enumerate(REGIONS)]
        return ("第3步：请选择企业所在地市（省直管县（市）单独列出）：",
                keyboard(in_rows(buttons, 3)))
    if state == COUNTY:
        return ("第4步：请输入企业所在的县（市、区），例如 中原区；不需要可点“跳过”。",
                keyboard([[("跳过", f"{PREFIX}:skip")]]))
    if state == INDUSTRIES:
        chosen = set(data.get("industries") or ())
        names = industries_of(context)
        buttons = [
            (("✅ " if name in chosen else "") + name, f"{PREFIX}:ind:{i}")
            for i, name in enumerate(names)
        ]
        shown = "、".join(n for n in names if n in chosen) or "（尚未选择）"
        return (
            "第5步：请选择企业所属行业（可多选，再点一次取消），选好后点“完成”。\n"
            f"已选：{escape(shown)}",
            keyboard([*in_rows(buttons, 3), [("完成", f"{PREFIX}:ind:done")]]),
        )
    if state == CONTACT:
        return "第6步：请输入联系人姓名。", None
    if state == PHONE:
        return "第7步：请输入联系电话（手机号，或带区号的固定电话如 0371-12345678）。", None
    if state == CONFIRM:
        return (summary(data) + "\n\n请核对以上信息。",
                keyboard([[("确认提交", f"{PREFIX}:ok"), ("修改", f"{PREFIX}:edit"),
                           ("取消", f"{PREFIX}:cancel")]]))
    if state == EDIT:
        buttons = [(label, f"{PREFIX}:fix:{field}") for field, label in EDITABLE]
        return "请选择要修改的内容：", keyboard(in_rows(buttons, 2))
    raise ValueError(f"unknown state {state}")


def summary(data: dict[str, Any]) -> str:
    county = data.get("county") or "—"
    lines = [
        "<b>登记信息</b>",
        f"企业名称：{escape(str(data.get('name', '')))}",
        f"信用代码：{escape(str(data.get('code', '')))}",
        f"所在地市：{escape(str(data.get('city', '')))}",
        f"县（市、区）：{escape(str(county))}",
        f"所属行业：{escape('、'.join(data.get('industries') or ()))}",
        f"联系人：{escape(str(data.get('contact', '')))}",
        f"联系电话：{escape(str(data.get('phone', '')))}",
    ]
    return "\n".join(lines)


async def ask(update: Update, context: Context, state: str, error: str | None = None) -> str:
    """Send the prompt of ``state`` (after ``error``, if any) and wait in ``state``."""
    text, markup = _prompt(context, state)
    if error:
        text = f"⚠️ {escape(error)}\n\n{text}"
    await send(update, context, text, markup)
    return state


def _after(context: Context, state: str) -> str:
    """The step after ``state``: the summary when the user is correcting one field."""
    data = draft(context, DIALOG)
    if data.get("editing") and not (state == CITY and data.get("county_pending")):
        return CONFIRM
    order = [NAME, CODE, CITY, COUNTY, INDUSTRIES, CONTACT, PHONE, CONFIRM]
    following = order[order.index(state) + 1]
    if following == COUNTY and data.get("city") in DIRECT_COUNTIES:
        data["county"] = None
        return _after(context, COUNTY)
    return following


async def _next(update: Update, context: Context, state: str) -> str:
    following = _after(context, state)
    if following == CONFIRM:
        draft(context, DIALOG).pop("editing", None)
        draft(context, DIALOG).pop("county_pending", None)
    return await ask(update, context, following)


# --- steps ---------------------------------------------------------------------------


@dialog_step(DIALOG, entry=True)
async def start(update: Update, context: Context) -> object:
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
    return await ask(update, context, NAME)


@dialog_step(DIALOG)
async def got_name(update: Update, context: Context) -> object:
    name = parse_line(text_of(update), label="企业名称", limit=NAME_LIMIT)
    if isinstance(name, FieldError):
        return await ask(update, context, NAME, name.message)
    draft(context, DIALOG)["name"] = name
    return await _next(update, context, NAME)


@dialog_step(DIALOG)
async def got_code(update: Update, context: Context) -> object:
    result = check_credit_code(text_of(update))
    if not result.ok:
        return await ask(update, context, CODE, result.error)
    draft(context, DIALOG)["code"] = result.code
    return await _next(update, context, CODE)


async def _set_city(update: Update, context: Context, city: str) -> object:
    data = draft(context, DIALOG)
    if data.get("editing") and data.get("city") != city:
        data["county_pending"] = True  # a new city needs its county again
        data["county"] = None
    data["city"] = city
    if data.get("county_pending") and city not in DIRECT_COUNTIES:
        data.pop("county_pending", None)
        return await ask(update, context, COUNTY)
    data.pop("county_pending", None)
    return await _next(update, context, CITY)


@dialog_step(DIALOG)
async def city_button(update: Update, context: Context) -> object:
    tail = callback_tail(update, f"{PREFIX}:city") or ""
    if not tail.isdigit() or int(tail) >= len(REGIONS):
        await close_buttons(update)
        return await ask(update, context, CITY, "请点选下方按钮中的地市。")
    city = REGIONS[int(tail)]
    await close_buttons(update, city)
    return await _set_city(update, context, city)


@dialog_step(DIALOG)
async def city_text(update: Update, context: Context) -> object:
    text = text_of(update).strip()
    city = normalize_region(text)
    if city is None:
        return await ask(update, context, CITY,
                         f"没有找到“{text[:20]}”，请点选下方按钮中的地市或省直管县（市）。")
    return await _set_city(update, context, city)


@dialog_step(DIALOG)
async def got_county(update: Update, context: Context) -> object:
    county = parse_line(text_of(update), label="县（市、区）名称", limit=COUNTY_LIMIT,
                        required=False)
    if isinstance(county, FieldError):
        return await ask(update, context, COUNTY, county.message)
    draft(context, DIALOG)["county"] = county or None
    return await _next(update, context, COUNTY)


@dialog_step(DIALOG)
async def skip_county(update: Update, context: Context) -> object:
    await close_buttons(update, "已跳过")
    draft(context, DIALOG)["county"] = None
    return await _next(update, context, COUNTY)


@dialog_step(DIALOG)
async def industry_button(update: Update, context: Context) -> object:
    query = update.callback_query
    assert query is not None
    tail = callback_tail(update, f"{PREFIX}:ind") or ""
    data = draft(context, DIALOG)
    chosen: list[str] = list(data.get("industries") or ())
    names = industries_of(context)
    if tail == "done":
        if not chosen:
            await close_buttons(update)
            return await ask(update, context, INDUSTRIES, "请至少选择一个行业。")
        await close_buttons(update, "已选：" + "、".join(chosen))
        return await _next(update, context, INDUSTRIES)
    if not tail.isdigit() or int(tail) >= len(names):
        await close_buttons(update)
        return await ask(update, context, INDUSTRIES)
    name = names[int(tail)]
    if name in chosen:
        chosen.remove(name)
    else:
        chosen.append(name)
    data["industries"] = [n for n in names if n in chosen]  # KB order, stable
    text, markup = _prompt(context, INDUSTRIES)
    await acknowledge(query)
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    return INDUSTRIES


@dialog_step(DIALOG)
async def industry_text(update: Update, context: Context) -> object:
    return await ask(update, context, INDUSTRIES, "请点击下方按钮选择行业，选好后点“完成”。")


@dialog_step(DIALOG)
async def got_contact(update: Update, context: Context) -> object:
    contact = parse_line(text_of(update), label="联系人姓名", limit=CONTACT_LIMIT)
    if isinstance(contact, FieldError):
        return await ask(update, context, CONTACT, contact.message)
    draft(context, DIALOG)["contact"] = contact
    return await _next(update, context, CONTACT)


@dialog_step(DIALOG)
async def got_phone(update: Update, context: Context) -> object:
    phone = parse_phone(text_of(update))
    if isinstance(phone, FieldError):
        return await ask(update, context, PHONE, phone.message)
    draft(context, DIALOG)["phone"] = phone
    return await _next(update, context, PHONE)


@dialog_step(DIALOG)
async def confirm_text(update: Update, context: Context) -> object:
    return await ask(update, context, CONFIRM, "请点击下方的“确认提交”、“修改”或“取消”。")


@dialog_step(DIALOG)
async def choose_edit(update: Update, context: Context) -> object:
    await close_buttons(update)
    return await ask(update, context, EDIT)


@dialog_step(DIALOG)
async def edit_field(update: Update, context: Context) -> object:
    field = callback_tail(update, f"{PREFIX}:fix") or ""
    await close_buttons(update)
    if field not in dict(EDITABLE):
        return await ask(update, context, EDIT)
    draft(context, DIALOG)["editing"] = True
    return await ask(update, context, field)


@dialog_step(DIALOG)
async def edit_text(update: Update, context: Context) -> object:
    return await ask(update, context, EDIT, "请点击按钮选择要修改的内容。")


@dialog_step(DIALOG)
async def confirm(update: Update, context: Context) -> object:
    user = update.effective_user
    assert user is not None
    await close_buttons(update, "正在提交…")
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
        )
    except ValueError as exc:
        return await ask(update, context, CONFIRM, f"无法提交：{exc}")
    clear_draft(context, DIALOG)
    await send(update, context, outcome_text(registration))
    if registration.outcome is not Outcome.ALREADY_BOUND:
        await approvals.notify_deciders(context, registration, applicant=user.full_name)
    return END


def outcome_text(registration: Registration) -> str:
    name = escape(registration.enterprise.name)
    if registration.outcome is Outcome.ALREADY_BOUND:
        status = STATUS_WORDS.get(registration.account.status.value, "")
        return ALREADY_BOUND.format(name=name, status=status)
    if registration.outcome is Outcome.CLAIM:
        return (f"“{name}”已由其他账号登记。您的绑定申请已提交，"
                "需经所在地生态环境部门审核通过后才能填报进展，审核结果会通知您。")
    return (f"✅ 已提交“{name}”的登记申请，正在等待所在地生态环境部门审核，"
            "审核结果会通知您。审核期间即可用 /report 填报进展（报告会标注为待审核企业所报）。")


async def reprompt(update: Update, context: Context, state: str) -> object:
    return await ask(update, context, state)


def conversation(timeout: float | None) -> ConversationHandler[Any]:
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[BaseHandler[Update, Any, Any]]] = {
        NAME: [MessageHandler(text, got_name)],
        CODE: [MessageHandler(text, got_code)],
        CITY: [CallbackQueryHandler(city_button, pattern=rf"^{PREFIX}:city:"),
               MessageHandler(text, city_text)],
        COUNTY: [CallbackQueryHandler(skip_county, pattern=rf"^{PREFIX}:skip$"),
                 MessageHandler(text, got_county)],
        INDUSTRIES: [CallbackQueryHandler(industry_button, pattern=rf"^{PREFIX}:ind:"),
                     MessageHandler(text, industry_text)],
        CONTACT: [MessageHandler(text, got_contact)],
        PHONE: [MessageHandler(text, got_phone)],
        CONFIRM: [CallbackQueryHandler(confirm, pattern=rf"^{PREFIX}:ok$"),
                  CallbackQueryHandler(choose_edit, pattern=rf"^{PREFIX}:edit$"),
                  MessageHandler(text, confirm_text)],
        EDIT: [CallbackQueryHandler(edit_field, pattern=rf"^{PREFIX}:fix:"),
               MessageHandler(text, edit_text)],
    }
    return conversation_handler(
        DIALOG, prefix=PREFIX, states=states, entry=start, reprompt=reprompt, timeout=timeout
    )
