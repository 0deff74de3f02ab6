"""Jinja for the pages: where the templates and static files live, and the filters the templates use."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from ..clock import SCHEME_TZ
from ..documents import make_templates
from ..domain.masking import mask_id, mask_name
from ..domain.money import grouped_yuan
from ..notices.service import last_day as notice_last_day
from . import labels, stagelabels, typed

# The repository's templates/ folder (beside notice.docx); the app runs from the repository.
TEMPLATE_DIR: Path = make_templates.TEMPLATES_DIR / "web"
STATIC_DIR: Path = Path(__file__).resolve().parent / "static"


yuan = grouped_yuan  # the pages' `|yuan` filter: the one money formatter of pages and documents


def day(value: date | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(SCHEME_TZ).date().isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def last_day(value: date | str | None) -> date | None:
    """The last day of a notice period that ends on `value` (a date, or one as ISO text), for display."""
    if value is None:
        return None
    return notice_last_day(value if isinstance(value, date) else date.fromisoformat(value[:10]))


def moment(value: datetime | str | None) -> str:
    """A time as the scheme's local time, to the minute."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)  # stored moments are UTC
    return value.astimezone(SCHEME_TZ).strftime("%Y-%m-%d %H:%M")


def label(value: Any, table: str) -> str:
    """`{{ case.cause|label("CAUSES") }}`: a code's Chinese label from one of the tables in `labels`."""
    mapping = getattr(labels, table)
    return mapping.get(value, "" if value is None else str(value))


def county(code: Any) -> str:
    """`{{ c|county }}`: a county as people name it, with its code ("示范县（340223）"); the code alone when no
    contract names it."""
    if not code:
        return ""
    name = labels.COUNTIES.get(str(code))
    return f"{name}（{code}）" if name else str(code)


def round_name(r: Any) -> str:
    """`{{ r|round_name }}`: a sampling round as people name it — county, kind, the checks' period
    ("示范县 · 按户抽样 · 2026-09-26 至 2026-10-26"); `r` is a round read model or a dict with the same keys."""
    if r is None:
        return ""
    get = r.get if isinstance(r, dict) else (lambda key: getattr(r, key))
    code = str(get("county_code"))
    kind = stagelabels.ROUND_KIND_NAMES.get(get("kind"), stagelabels.ROUND_KINDS.get(get("kind"), "抽样"))
    return f"{labels.COUNTIES.get(code, code)} · {kind} · {day(get('checked_from'))} 至 {day(get('checked_to'))}"


def file_size(size: Any) -> str:
    """`{{ n|file_size }}`: a file's size in bytes as people read it ("不足 1 KB", "35 KB", "2.4 MB")."""
    n = int(size or 0)
    if n < 1024:
        return "不足 1 KB"
    if n < 1024 * 1024:
        return f"{round(n / 1024)} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def rate(value: Any) -> str:
    """A rate "0.6" as "60%"."""
    try:
        pct = Decimal(str(value)) * 100
    except InvalidOperation:
        return str(value)
    return f"{pct.normalize():f}%"


@cache
def static_url(name: str) -> str:
    """/static/NAME?v=<content hash>: a changed file gets a new URL, so an unchanged one can be cached for good."""
    path = STATIC_DIR / name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"
    return f"/static/{name}?v={digest}"


def _msg(message: Any) -> str:
    """`{{ message|msg }}`: a service's message in Chinese; one no table knows yet never shows in English."""
    return labels.said_in_chinese(labels.message_zh(str(message)))


def _register(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.filters.update(yuan=yuan, day=day, day_zh=typed.day_in_words, last_day=last_day, moment=moment, label=label, rate=rate, mask_id=mask_id,
                       file_size=file_size, mask_name=mask_name, county=county, round_name=round_name, msg=_msg,
                       said=labels.said_in_chinese, field_label=labels.field_label, action=labels.action_label)
    env.globals.update(labels=labels, typed=typed, static_url=static_url, reason_zh=labels.reason_zh, change_zh=stagelabels.change_zh,
                       item_status=stagelabels.ITEM_STATUS, batch_status=stagelabels.BATCH_STATUS)
    env.trim_blocks = True
    env.lstrip_blocks = True


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=_register)
