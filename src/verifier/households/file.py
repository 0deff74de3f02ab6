"""The household file (一户一档): one household across years and contracts, assembled from the stage services.

`household_file` reads the household (404 outside the caller's counties), each of its cases through the case
detail (`cases.present.case_detail`: referrals, checks, determination, village review, notice, payments and their
audit history), the county's roster, the sampling results and the county's risk marks, and returns a
`HouseholdFile`: a header, `sections` (each a table: columns and rows, codes kept as codes) and the `timeline` (every
audit entry concerning the household, oldest first, each with its index for its inclusion proof).

Adding a section is one `SectionSource` in `SECTIONS`: a key, a Chinese title, its columns and a function from the
`Ctx` to its rows (None or [] when the household has nothing of that kind: the section is then left out). The page,
the .docx and the xlsx show every section the same way, so nothing else changes. For example (a table of member
moves built elsewhere):

    def _changes(ctx: Ctx) -> list[dict[str, Any]] | None:
        return [{"day": c.changed_on.isoformat(), "what": c.kind, ...} for c in household_changes(ctx.session, ctx.id)]

    SECTIONS.insert(2, SectionSource("changes", "户成员变动", [Column("day", "日期", "day"), ...], _changes))

ID numbers are masked (6+4) unless the reader is an officer at the door of one of the household's cases
(`cases.personal.sees_full_ids`); `masked=True` (the exports: a file outlives the visit) masks them for everyone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..accounts.auth import Principal
from ..audit.models import AuditEntry
from ..cases import personal
from ..cases import service as case_service
from ..cases.present import case_detail
from ..cases.schemas import CaseDetail
from ..domain.masking import mask_id, mask_phone
from ..domain.money import format_yuan
from ..roster import service as roster_service
from ..recusal.refusals import ACTION as REFUSED
from ..sampling.models import SamplingResult
from ..store.tables import Case, Household, Member, User
from ..store.vault import Vault
from . import risk
from .schemas import Column, HouseholdFile, HouseholdOut, Section, Step

SYSTEM = "system"
EXPORT_ACTION = "household.export"  # who took the household file as a document; not a step of the household


@dataclass
class Ctx:
    """What a section builder reads: the household, its cases with their details (oldest first), the reader."""

    session: Session
    household: Household
    principal: Principal
    vault: Vault
    cases: list[Case]
    details: dict[str, CaseDetail]
    full_ids: bool  # ID numbers in full in this file
    case_full: dict[str, bool]  # per case: whether its detail carries full ID numbers
    users: set[str] = field(default_factory=set)  # user ids named by the sections (filled as they are built)

    @property
    def id(self) -> str:
        return self.household.id

    def number(self, case_id: str) -> str:
        return self.details[case_id].number

    def shown_id(self, case_id: str | None, value: str) -> str:
        """An ID number from a case's detail as this file shows it (masked when the file is masked)."""
        full = self.case_full.get(case_id, False) if case_id else True
        return mask_id(value) if full and not self.full_ids and value else value

    def user(self, user_id: str | None) -> str | None:
        if user_id:
            self.users.add(user_id)
        return user_id


@dataclass(frozen=True)
class SectionSource:
    key: str
    title: str
    columns: list[Column]
    rows: Callable[[Ctx], list[dict[str, Any]] | None]


def _members(ctx: Ctx) -> list[dict[str, Any]]:
    members = list(ctx.session.scalars(select(Member).where(Member.household_id == ctx.id).order_by(Member.id)))
    categories = roster_service.categories_of(ctx.session, ctx.household.county_code,
                                              [m.id_number_bidx for m in members])
    rows = []
    for m in members:
        number = ctx.vault.open(m.id_number_enc, "member.id_number")
        rows.append({"name": m.name, "id_number": number if ctx.full_ids else mask_id(number),
                     "relation": m.relation, "labour": m.labour,
                     "roster": categories.get(m.id_number_bidx, "none")})
    return rows


def _member_history(ctx: Ctx) -> list[dict[str, Any]]:
    """The household as each home check found it: who lived there on the day (members over time)."""
    rows = []
    for case in ctx.cases:
        for c in ctx.details[case.id].checks:
            rows.append({"day": c.visited_on.isoformat(), "case_id": case.id, "case": ctx.number(case.id),
                         "size": len(c.members),
                         "people": [{"name": m.name, "relation": m.relation} for m in c.members]})
    return sorted(rows, key=lambda r: r["day"])


def _cases(ctx: Ctx) -> list[dict[str, Any]]:
    return [{"case_id": c.id, "case": c.number, "year": c.contract_year, "cause": c.cause,
             "group": c.household_group, "referred_on": c.referred_on.isoformat(),
             "amount": format_yuan(c.reported_amount), "status": c.status,
             "relief": ctx.details[c.id].determination.relief.amount if ctx.details[c.id].determination else None}
            for c in ctx.cases]


def _referrals(ctx: Ctx) -> list[dict[str, Any]]:
    return [{"day": r.referred_on.isoformat(), "case_id": c.id, "case": c.number, "channel": r.channel,
             "name": r.name, "id_number": ctx.shown_id(c.id, r.id_number), "cause": r.cause, "amount": r.amount}
            for c in ctx.cases for r in ctx.details[c.id].referrals]


def _checks(ctx: Ctx) -> list[dict[str, Any]]:
    rows = []
    for c in ctx.cases:
        for k in ctx.details[c.id].checks:
            rows.append({"day": k.visited_on.isoformat(), "case_id": c.id, "case": c.number,
                         "officers": [ctx.user(o) for o in k.officers], "size": len(k.members),
                         "days_late": k.days_late or 0, "stable_income": k.stable_income,
                         "sent_back": k.sent_back_reason or ""})
    return rows


def _determinations(ctx: Ctx) -> list[dict[str, Any]]:
    """Each case's standing determination (the case detail's; earlier ones stay in the timeline)."""
    rows = []
    for c in ctx.cases:
        d = ctx.details[c.id].determination
        if d is None:
            continue
        entry = next((h for h in ctx.details[c.id].history if h.action.startswith("case.determine_")), None)
        rows.append({"case_id": c.id, "case": c.number, "eligible": d.eligible, "rule": d.rule,
                     "per_capita_income": d.per_capita_income, "relief": d.relief.amount,
                     "confirmed_at": entry.time.isoformat() if entry else None,
                     "confirmed_by": ctx.user(entry.actor) if entry else None})
    return rows


def _reviews_and_notices(ctx: Ctx) -> list[dict[str, Any]]:
    rows = []
    for c in ctx.cases:
        review, notice = ctx.details[c.id].village_review, ctx.details[c.id].notice
        if review is None and notice is None:
            continue
        objections = (notice or {}).get("objections") or []
        rows.append({
            "case_id": c.id, "case": c.number,
            "held_on": (review or {}).get("held_on"), "result": (review or {}).get("result"),
            "posted_on": (notice or {}).get("posted_on"), "ends_on": (notice or {}).get("ends_on"),
            "item_status": ((notice or {}).get("item") or {}).get("status"),
            "objections": len(objections),
            "upheld": sum(1 for o in objections if o.get("status") == "upheld"),
        })
    return rows


def _payments(ctx: Ctx) -> list[dict[str, Any]]:
    return [{"case_id": c.id, "case": c.number, "batch": p["batch_code"], "reference": p["reference"],
             "amount": p["amount"], "payee": p["payee"]["account_name"],
             "account": p["payee"]["account_number"] or "", "status": p["status"],
             "created_at": p["created_at"], "settled_at": p["settled_at"]}
            for c in ctx.cases for p in ctx.details[c.id].payments]


def _sampling(ctx: Ctx) -> list[dict[str, Any]]:
    numbers = {c.id: c.number for c in ctx.cases}
    results = ctx.session.scalars(select(SamplingResult).where(SamplingResult.case_id.in_(list(numbers)))
                                  .order_by(SamplingResult.recorded_at))
    return [{"case_id": r.case_id, "case": numbers[r.case_id], "recorded_at": r.recorded_at.isoformat(),
             "eligible": r.eligible, "per_capita_income": format_yuan(r.per_capita_income),
             "relief": None if r.relief_amount is None else format_yuan(r.relief_amount),
             "insurer_per_capita_income": format_yuan(r.insurer_per_capita_income), "deviation": r.deviation,
             "reasons": list(r.reasons), "recorded_by": ctx.user(r.corrected_by or r.recorded_by)}
            for r in results]


def _risk(ctx: Ctx) -> list[dict[str, Any]]:
    return [{"seq": e.seq, "day": e.evidence_on.isoformat(), "status": e.status, "evidence_kind": e.evidence_kind,
             "months": e.months, "note": e.note, "recorded_by": ctx.user(e.recorded_by),
             "recorded_at": e.recorded_at.isoformat()}
            for e in risk.events(ctx.session, ctx.id)]


def _changes(ctx: Ctx) -> list[dict[str, Any]]:
    """The household's merges and member moves (households/service/reading.py), oldest first."""
    from .service import household_changes

    rows = []
    for c in household_changes(ctx.session, ctx.id):
        incoming = c.to_household_id == ctx.id
        if c.kind == "merge":
            what = "另一户并入本户" if incoming else "本户并入另一户"
            who = f"{len(c.members)} 人"
        else:
            what = ("新立一户（分户）迁出" if c.new_household else "迁出") if not incoming else "迁入本户"
            who = c.member_name or ""
        merged = "、".join(f"{m['number']}→{m['into_number']}" for m in c.merged_cases)
        rows.append({"moment": c.changed_at.isoformat(), "what": what, "who": who, "merged": merged,
                     "relations": [{"name": r["name"], "before": r["before"], "after": r["after"]}
                                   for r in c.relations],
                     "head": c.head_name or "", "reason": c.reason, "changed_by": ctx.user(c.changed_by),
                     "confirmed_by": ctx.user(c.confirmed_by)})
    return rows


def _recoveries(ctx: Ctx) -> list[dict[str, Any]]:
    """Recoveries (追回) opened after a sampling deviation, per case."""
    from ..payments.recovery_reading import recoveries_for_case

    return [{"case_id": c.id, "case": c.number, "opened_at": r["opened_at"], "amount": r["amount"],
             "repaid": r["repaid"], "outstanding": r["outstanding"], "status": r["status"]}
            for c in ctx.cases for r in recoveries_for_case(ctx.session, c.id)]


def _followups(ctx: Ctx) -> list[dict[str, Any]]:
    """Follow-ups (回访) after payment, per case, oldest first."""
    from ..followups.receipt import alone_state
    from ..followups.service import recorded

    rows = []
    for c in ctx.cases:
        for f, _case, _head in recorded(ctx.session, None, case_id=c.id):
            rows.append({"day": f.done_on.isoformat(), "case_id": c.id, "case": c.number, "method": f.method,
                         "income_change": f.income_change, "risk_remains": f.risk_remains,
                         "satisfaction": f.satisfaction, "needs": list(f.new_needs or []),
                         "received": f.received or "unknown",
                         "received_amount": None if f.received_amount is None else format_yuan(f.received_amount),
                         "recorded_by": ctx.user(f.recorded_by), "alone": alone_state(f)})
    return sorted(rows, key=lambda r: r["day"])


def _needs(ctx: Ctx) -> list[dict[str, Any]]:
    """Needs passed to departments (发点球) and their answers."""
    from ..needs.service import list_referrals

    rows = []
    for c in ctx.cases:
        for row in list_referrals(ctx.session, None, case_id=c.id):
            r = row.referral
            rows.append({"day": r.referred_on.isoformat(), "case_id": c.id, "case": c.number, "need": r.need,
                         "department": r.department, "due_on": r.due_on.isoformat(), "status": r.status,
                         "answered_on": r.answered_on.isoformat() if r.answered_on else None,
                         "answer": r.answer or ""})
    return sorted(rows, key=lambda r: r["day"])


C = Column
CASE = C("case", "案件编号", "case")
SECTIONS: list[SectionSource] = [
    SectionSource("members", "家庭成员", [
        C("name", "姓名"), C("id_number", "身份证号"), C("relation", "与户主关系", "label:RELATIONS"),
        C("labour", "劳动能力", "label:LABOUR"), C("roster", "名册类别", "label:ROSTER")], _members),
    SectionSource("member_history", "家庭成员变化（历次入户核查）", [
        C("day", "核查日期", "day"), CASE, C("size", "家庭人口", "int"), C("people", "成员", "people")],
        _member_history),
    SectionSource("changes", "家庭合并和成员迁移", [
        C("moment", "时间", "moment"), C("what", "变动"), C("who", "成员"), C("merged", "合并的案件"),
        C("relations", "与户主关系变化", "relations"), C("head", "变动后户主"), C("reason", "原因"),
        C("changed_by", "办理人", "user"), C("confirmed_by", "确认人", "user")], _changes),
    SectionSource("risk", "风险消除", [
        C("day", "日期", "day"), C("status", "状态", "label:RISK_STATUS"),
        C("evidence_kind", "依据", "label:RISK_EVIDENCE"), C("months", "连续月数", "int"), C("note", "说明"),
        C("recorded_by", "记录人", "user"), C("recorded_at", "记录时间", "moment")], _risk),
    SectionSource("cases", "救助案件", [
        CASE, C("year", "合同年度", "int"), C("cause", "救助类别", "label:CAUSES"),
        C("group", "户类型", "label:GROUPS"), C("referred_on", "接收日期", "day"),
        C("amount", "申报金额（元）", "money"), C("status", "状态", "label:STATUS_LABELS"),
        C("relief", "认定保障金（元）", "money")], _cases),
    SectionSource("referrals", "监测信息和申请", [
        C("day", "接收日期", "day"), CASE, C("channel", "来源", "label:CHANNELS"), C("name", "姓名"),
        C("id_number", "身份证号"), C("cause", "救助类别", "label:CAUSES"), C("amount", "金额（元）", "money")],
        _referrals),
    SectionSource("checks", "入户核查", [
        C("day", "核查日期", "day"), CASE, C("officers", "核查人", "user"), C("size", "家庭人口", "int"),
        C("stable_income", "有稳定收入", "bool"), C("days_late", "逾期天数", "int"),
        C("sent_back", "退回原因")], _checks),
    SectionSource("determinations", "认定结果", [
        CASE, C("eligible", "符合条件", "bool"), C("rule", "认定依据", "label:RULES"),
        C("per_capita_income", "人均纯收入（元）", "money"), C("relief", "保障金（元）", "money"),
        C("confirmed_by", "确认人", "user"), C("confirmed_at", "确认时间", "moment")], _determinations),
    SectionSource("reviews", "村级评议和公示", [
        CASE, C("held_on", "评议日期", "day"), C("result", "评议结果", "label:REVIEW_RESULTS"),
        C("posted_on", "公示开始", "day"), C("ends_on", "公示截止", "day"),
        C("item_status", "公示结果", "label:ITEM_STATUS"), C("objections", "异议", "int"),
        C("upheld", "异议成立", "int")], _reviews_and_notices),
    SectionSource("payments", "保障金支付", [
        CASE, C("batch", "支付批次"), C("reference", "参考号"), C("amount", "金额（元）", "money"),
        C("payee", "收款人"), C("account", "账号"), C("status", "状态", "label:stage:ITEM_STATUS"),
        C("created_at", "制单日期", "day"), C("settled_at", "入账日期", "day")], _payments),
    SectionSource("sampling", "县级抽查复核", [
        CASE, C("recorded_at", "复核时间", "moment"), C("eligible", "复核结论：符合条件", "bool"),
        C("per_capita_income", "复核人均纯收入（元）", "money"),
        C("insurer_per_capita_income", "保险公司人均纯收入（元）", "money"), C("relief", "复核保障金（元）", "money"),
        C("deviation", "存在偏差", "bool"), C("reasons", "偏差原因", "label:stage:DEVIATION_REASONS"),
        C("recorded_by", "复核人", "user")], _sampling),
    SectionSource("recoveries", "追回", [
        CASE, C("opened_at", "发起时间", "moment"), C("amount", "应追回（元）", "money"),
        C("repaid", "已追回（元）", "money"), C("outstanding", "尚欠（元）", "money"),
        C("status", "状态", "label:stage:RECOVERY_STATUS")], _recoveries),
    SectionSource("followups", "回访", [
        C("day", "回访日期", "day"), CASE, C("method", "方式", "label:FOLLOWUP_METHODS"),
        C("income_change", "收入变化", "label:INCOME_CHANGES"), C("risk_remains", "风险仍在", "bool"),
        C("satisfaction", "满意度", "label:SATISFACTION"), C("needs", "新的需求", "label:NEEDS"),
        C("received", "是否收到救助金", "label:RECEIVED"), C("received_amount", "户称收到（元）", "money"),
        C("recorded_by", "回访人", "user"), C("alone", "县级复核", "label:FOLLOWUP_ALONE")], _followups),
    SectionSource("needs", "转交部门的需求（发点球）", [
        C("day", "转交日期", "day"), CASE, C("need", "需求", "label:NEEDS"), C("department", "责任部门"),
        C("due_on", "答复期限", "day"), C("status", "状态", "label:NEED_STATUS"),
        C("answered_on", "答复日期", "day"), C("answer", "部门答复")], _needs),
]


def _timeline(ctx: Ctx) -> list[Step]:
    """Every audit entry of the household's cases (with those of their imports and payment batches) and of the
    household itself, oldest first; the exports of the file are left out (they are no step of the household), and so
    are 回避 refusals (they would name who is related to it; the audit log keeps them)."""
    steps: dict[int, Step] = {}
    for c in ctx.cases:
        for e in ctx.details[c.id].history:
            steps.setdefault(e.index, Step(index=e.index, time=e.time, actor=e.actor, role=e.role, action=e.action,
                                           payload=e.payload, case_id=c.id, case_number=c.number))
    numbers = {c.id: c.number for c in ctx.cases}
    own = select(AuditEntry.idx, AuditEntry.time, AuditEntry.actor, AuditEntry.role, AuditEntry.action,
                 AuditEntry.subject, AuditEntry.entry).where(AuditEntry.subject == ctx.id,
                                                             AuditEntry.action.not_in((EXPORT_ACTION, REFUSED)))
    sampled = select(SamplingResult.round_id).where(SamplingResult.case_id.in_(list(numbers)))
    rounds = (select(AuditEntry.idx, AuditEntry.time, AuditEntry.actor, AuditEntry.role, AuditEntry.action,
                     AuditEntry.subject, AuditEntry.entry)
              .where(AuditEntry.subject.in_(sampled), AuditEntry.action.like("sampling.result%")))
    for stmt in (own, rounds):
        for e in ctx.session.execute(stmt):
            payload = json.loads(e.entry)["payload"]
            case_id = payload.get("case_id") if isinstance(payload.get("case_id"), str) else None
            if e.subject != ctx.id and case_id not in numbers:
                continue  # a result of another household's case in the same round
            steps.setdefault(e.idx, Step(index=e.idx, time=e.time, actor=e.actor, role=e.role, action=e.action,
                                         payload=payload, case_id=case_id, case_number=numbers.get(case_id or "")))
    for s in steps.values():
        ctx.user(s.actor)
    return sorted(steps.values(), key=lambda s: (s.time, s.index))


def household_cases(session: Session, household_id: str) -> list[Case]:
    return list(session.scalars(select(Case).options(joinedload(Case.household, innerjoin=True))
                                .where(Case.household_id == household_id)
                                .order_by(Case.referred_on, Case.created_at, Case.id)))


def household_file(session: Session, household_id: str, principal: Principal, vault: Vault, *,
                   masked: bool = False, phone_asked: bool = False) -> HouseholdFile:
    household = risk.load_household(session, household_id, principal)
    cases = household_cases(session, household.id)
    visits = {c.id: case_service.active_visit(session, c.id) for c in cases}
    case_full = {c.id: personal.sees_full_ids(principal, c, visits[c.id]) for c in cases}
    # in full at the door; to a supervisor only when he asked for it (`phone_asked`: the caller records the ask)
    full_phone = any(personal.sees_full_phone(principal, c, visits[c.id]) for c in cases) or (
        phone_asked and principal.has(*personal.PHONE_READERS))
    ctx = Ctx(session=session, household=household, principal=principal, vault=vault, cases=cases,
              details={c.id: case_detail(session, c, principal, vault) for c in cases},
              full_ids=not masked and any(case_full.values()), case_full=case_full)
    sections = []
    for source in SECTIONS:
        rows = source.rows(ctx)
        if rows:
            sections.append(Section(key=source.key, title=source.title, columns=list(source.columns), rows=rows))
    timeline = _timeline(ctx)
    phone = personal.household_phone(session, vault, household)  # as the route sheet and the phone ask
    categories = {r["roster"] for s in sections if s.key == "members" for r in s.rows} - {"none"}
    return HouseholdFile(
        household=HouseholdOut(
            id=household.id, county_code=household.county_code, town=household.town, village=household.village,
            household_group=household.household_group, head_name=household.head_name,
            phone=None if not phone else (phone if full_phone and not masked else mask_phone(phone)),
            roster_categories=sorted(categories), risk_status=risk.status_of(session, household.id),
            case_count=len(cases), years=sorted({c.contract_year for c in cases})),
        sections=sections, timeline=timeline, names=_names(session, ctx.users), full_ids=ctx.full_ids)


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    wanted = {i for i in ids if i} - {SYSTEM}
    if not wanted:
        return {}
    return {uid: name for uid, name in session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))}


def record_export(session: Session, household_id: str, *, fmt: str, sha256: str, principal: Principal,
                  clock: Any) -> int:
    """Log who took the household's file as a document, in which format, and its hash."""
    from ..audit import log as audit

    household = risk.load_household(session, household_id, principal)
    return audit.append(session, actor=principal.id, role=principal.main_role, action=EXPORT_ACTION,
                        subject=household.id, county_code=household.county_code, clock=clock,
                        payload={"format": fmt, "file_sha256": sha256})
