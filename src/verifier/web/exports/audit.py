"""The audit entries workbook, by days, action and the audit page's search."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from ...accounts.auth import Principal
from ...audit import service as audit_service
from ...documents.sheets import Sheet, workbook
from ...domain.errors import ValidationFailed
from ...domain.scheme_calendar import day_start
from .. import labels
from ..common import user_names


def day_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Days in Asia/Shanghai, both included, as the instants that bound them."""
    start = day_start(since) if since else None
    end = day_start(until + timedelta(days=1)) if until else None
    return start, end


def audit_xlsx(session: Session, user: Principal, *, since: date | None = None, until: date | None = None,
               action: str | None = None, q: str = "") -> bytes:
    if since and until and since > until:
        raise ValidationFailed.one("to", f"结束日期不能早于开始日期（填写的是 {since} 至 {until}）")
    start, end = day_bounds(since, until)
    rows = audit_service.list_entries(session, user, since=start, until=end, action=action or None, q=q)
    names = user_names(session, [r.actor for r in rows] + [r.subject for r in rows if r.subject.startswith("usr_")])
    return workbook(Sheet("审计日志", ["序号", "时间（北京时间）", "经办人", "角色", "事项", "对象", "县（区）"], [
        [r.idx, r.time, names.get(r.actor, r.actor), labels.ROLE_LABELS.get(r.role, r.role),
         labels.action_label(r.action), names.get(r.subject, r.subject), r.county_code or ""] for r in rows],
        (8, 17, 12, 12, 28, 22, 10)))


def audit_actions() -> list[tuple[str, str]]:
    return sorted(labels.ACTIONS.items(), key=lambda kv: kv[0])
