"""The audit entries workbook, by days, action and the audit page's search."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from ...accounts.auth import Principal
from ...audit import service as audit_service
from ...documents.sheets import Sheet, workbook
from ...domain.errors import ValidationFailed
from ...domain.scheme_calendar import day_start
from ...cases.numbers import numbers_of
from ...notices.reading import notice_names
from ...peeks.listing import case_numbers_of_looks
from ...payments.batch_list import batch_codes
from ...sampling.service import round_titles
from .. import labels
from ..common import user_names
from ..templating import round_name


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
    names = user_names(session, [r.actor for r in rows])
    subjects = subject_names(session, [r.subject for r in rows])
    return workbook(Sheet("审计日志", ["序号", "时间（北京时间）", "经办人", "角色", "事项", "对象", "对象编号", "县（区）"], [
        [r.idx, r.time, names.get(r.actor, r.actor), labels.ROLE_LABELS.get(r.role, r.role),
         labels.action_label(r.action), subjects.get(r.subject, ""), r.subject, r.county_code or ""] for r in rows],
        (8, 17, 12, 12, 28, 26, 22, 10)))


def subject_names(session: Session, subjects: list[str]) -> dict[str, str]:
    """What entries are about, as the audit page names them: a case by its number, a batch, notice or sampling round
    by its name, a user by name, an export by its list, a look at personal data by the case looked at; a contract or
    anything else without an id's prefix as it is (the id itself goes in the column beside)."""
    def starting(prefix: str) -> list[str]:
        return [s for s in subjects if s.startswith(prefix)]

    found: dict[str, str] = {s: s for s in subjects if "_" not in s and ":" not in s}
    found.update(numbers_of(session, starting("case_")))
    found.update({b: f"支付批次 {code}" for b, code in batch_codes(session, set(starting("pb_"))).items()})
    found.update(notice_names(session, starting("ntc_")))
    found.update({r: f"抽样复核 {round_name(t)}" for r, t in round_titles(session, starting("smp_")).items()})
    found.update(user_names(session, starting("usr_")))
    found.update({s: labels.EXPORT_KINDS[s] for s in subjects if s in labels.EXPORT_KINDS})
    found.update({s: f"查阅个人信息 {number}" if number else "查阅个人信息（一户一档）"
                  for s, number in case_numbers_of_looks(session, starting("personal_view:")).items()})
    return found


def audit_actions() -> list[tuple[str, str]]:
    return sorted(labels.ACTIONS.items(), key=lambda kv: kv[0])
