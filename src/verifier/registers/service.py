"""Importing other agencies' registers, matching every member of a checked household against every register in
force, and answering the findings that makes.

An import is all or nothing, in the audit log, and the same file again (same county and kind) changes nothing. Only
a county reviewer imports (or the operator at the command line): the registers decide who is excluded, which the
insurer must not steer. An import is a proposal (`pending`) that no cross-check consults until another county
reviewer of the county confirms it (`confirm`, having seen what it changes against the version in force: `compare`):
not its importer, nor an account linked to the importer's by a password (`roster.service.password_links`, refused on
回避拦截记录), nor a reviewer tied (回避) to a household whose findings it would clear. Either may decline it with a
reason (`decline`; the log keeps the reason's SHA-256). A confirmed register is in force from its data date to its
validity date; of several confirmed imports of one kind from one bureau the latest in force is consulted.

Findings are made when a check is recorded and again at determination (registers imported in between are
consulted then); each is answered by an insurer supervisor who did not make or record the check, nor is tied to the
household (回避): explained (with a note) or upheld (the household is ineligible, the finding being the reason).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.registers import KINDS, RegisterRules, effect_of, medical_disagrees
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK, county_has_reviewer
from ..settings import ImportLimits
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.db import Database
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.tables import Case, Check, Member
from ..store.vault import Vault
from .models import STATUSES, RegisterEntry, RegisterFinding, RegisterImport  # noqa: F401  (RegisterFinding for pages)
from .parsing import read_register

IMPORT_ROLES = ("county_reviewer",)
CONFIRM_ROLES = ("county_reviewer",)
READ_ROLES = ("county_reviewer", "insurer_supervisor", "auditor")
ANSWER_ROLES = ("insurer_supervisor",)
FINDING_READERS = ("insurer_supervisor", "county_reviewer", "auditor")
DEFAULT_VALID_DAYS = 90
DEFAULT_BUREAUS = {"vehicle": "公安局交通管理部门", "business": "市场监督管理局", "housing": "住房和城乡建设局",
                   "public_employment": "人力资源和社会保障局", "assets": "银行业金融机构", "medical": "医疗保障局"}
_CHUNK = 5_000
_INSERT_CHUNK = 20_000
MAX_NOTE = 2000


@dataclass(frozen=True)
class ImportResult:
    import_id: str
    kind: str
    rows: int
    repeated: bool = False
    county_code: str = ""  # set by `import_run`, for the form the page shows again
    status: str = "pending"  # consulted only once another county reviewer confirms it


def _check_county(county_code: str, principal: Principal) -> None:
    if not (len(county_code) == 6 and county_code.isdigit()):
        raise ValidationFailed.one("county_code", f"县（区）代码是 6 位数字，收到 {county_code!r}")
    if not principal.may_see_county(county_code):
        raise NotFound(f"没有县（区）{county_code}")


CLI_AFTER_SETUP = ("本县（区）{county}已有在用的县级复核员：部门比对名单须由县级复核员登录后在“导入部门比对名单”页（或通过接口）"
                   "导入，再由本县另一名县级复核员确认；命令行导入只用于尚无县级复核员的县（区）")


def _command_line_only_while_setting_up(session: Session, county_code: str, principal: Principal) -> None:
    """As the roster's (`roster.service`): the operator at the command line, who may also hold a reviewer account,
    imports only for a county being set up. The second person's check compares accounts, and `cli:<operator>` is
    none of them: the operator could import here and confirm on the page alone. Once the county has an active
    county reviewer, a reviewer imports on the page, and another confirms."""
    if principal.id.startswith("cli:") and county_has_reviewer(session, county_code):
        raise Forbidden(CLI_AFTER_SETUP.format(county=county_code))


def import_register(db: Database, *, vault: Vault, data: bytes, filename: str, kind: str, county_code: str,
                    principal: Principal, clock: Clock, limits: ImportLimits, bureau: str = "",
                    as_of: date | None = None, valid_until: date | None = None) -> ImportResult:
    """Read and check the whole file first (no transaction open), then seal and write it in one transaction."""
    _check_county(county_code, principal)
    if not principal.has(*IMPORT_ROLES):
        raise Forbidden("只有县级复核人员可以导入部门比对名单")
    today = clock.today()
    problems: list[FieldError] = []
    if kind not in KINDS:
        problems.append(FieldError("kind", f"未知的名单类型 {kind!r}"))
    bureau = " ".join(bureau.split()) or DEFAULT_BUREAUS.get(kind, "")
    if len(bureau) > 100:
        problems.append(FieldError("bureau", "部门名称最多 100 个字"))
    as_of = as_of or today
    if as_of > today:
        problems.append(FieldError("as_of", f"数据日期 {as_of} 晚于今天"))
    valid_until = valid_until or as_of + timedelta(days=DEFAULT_VALID_DAYS)
    if valid_until < as_of:
        problems.append(FieldError("valid_until", f"有效期至 {valid_until} 早于数据日期 {as_of}"))
    if problems:
        raise ValidationFailed(problems)
    sha = hashlib.sha256(data).hexdigest()
    with db.read() as session:
        _command_line_only_while_setting_up(session, county_code, principal)
        earlier = _earlier(session, county_code, kind, sha)
    if earlier is not None:
        return earlier
    rows = read_register(data, filename, kind, today=today, limits=limits)
    ids = [r.id_number for r in rows]
    sealed = vault.seal_many(ids, "register_entry.id_number")
    index = vault.blind_index
    values = [{"county_code": county_code, "row": r.row, "id_number_enc": s,
               "id_number_bidx": index(r.id_number, "id_number"), "amount": r.amount, "year": r.year,
               "facts": r.facts} for r, s in zip(rows, sealed)]
    with db.begin() as session:
        _command_line_only_while_setting_up(session, county_code, principal)
        earlier = _earlier(session, county_code, kind, sha)  # the same file, imported while this one was read
        if earlier is not None:
            return earlier
        import_id = new_id("reg")
        session.add(RegisterImport(id=import_id, county_code=county_code, kind=kind, bureau=bureau, as_of=as_of,
                                   valid_until=valid_until, filename=filename[:255], file_sha256=sha,
                                   rows=len(values), imported_by=principal.id, imported_at=clock.now()))
        session.flush()
        for v in values:
            v["import_id"] = import_id
        table = RegisterEntry.__table__  # a Core insert: no ORM bookkeeping per row
        for i in range(0, len(values), _INSERT_CHUNK):
            session.execute(insert(table), values[i:i + _INSERT_CHUNK])
        audit.append(session, actor=principal.id, role="county_reviewer", action="registers.import",
                     subject=import_id, county_code=county_code,
                     payload={"county_code": county_code, "kind": kind, "bureau": bureau,
                              "as_of": as_of.isoformat(), "valid_until": valid_until.isoformat(),
                              "filename": filename[:255], "sha256": sha, "rows": len(values), "status": "pending"},
                     clock=clock)
    return ImportResult(import_id, kind, len(values))


def _earlier(session: Session, county_code: str, kind: str, sha: str) -> ImportResult | None:
    """The import of the same file (county and kind) not declined: a declined file sent again is a new proposal."""
    row = session.scalar(select(RegisterImport).where(RegisterImport.county_code == county_code,
                                                      RegisterImport.kind == kind, RegisterImport.file_sha256 == sha,
                                                      RegisterImport.status != "declined"))
    return None if row is None else ImportResult(row.id, row.kind, row.rows, repeated=True, status=row.status)


def import_run(session: Session, principal: Principal, import_id: str, *, repeated: bool) -> ImportResult | None:
    """What the page after a file says (Post/Redirect/Get: the address names the import, never its counts): the
    viewer's own import, or (`repeated`, the same file sent again, which writes nothing) an import of the viewer's
    counties. None for another county's import, one someone else made, or no such import: an address alone never
    makes the page say that something was imported."""
    row = session.get(RegisterImport, import_id)
    if row is None or not principal.may_see_county(row.county_code):
        return None
    if not repeated and row.imported_by != principal.id:
        return None
    return ImportResult(row.id, row.kind, row.rows, repeated=repeated, county_code=row.county_code,
                        status=row.status)


def _imports(principal: Principal, county_code: str | None) -> Any:
    stmt = select(RegisterImport).order_by(RegisterImport.imported_at.desc(), RegisterImport.id.desc())
    if principal.counties:
        stmt = stmt.where(RegisterImport.county_code.in_(principal.counties))
    if county_code:
        stmt = stmt.where(RegisterImport.county_code == county_code)
    return stmt


def imports(session: Session, principal: Principal, *, county_code: str | None = None,
            limit: int = 200) -> list[RegisterImport]:
    return list(session.scalars(_imports(principal, county_code).limit(limit)))


def imports_page(session: Session, principal: Principal, page: int = 1, page_size: int = PAGE_SIZE, *, q: str = "",
                 kinds: Sequence[str] = (), status: str = "", only: Sequence[str] | None = None) -> Paged[Any]:
    """The imports the page lists, newest first, a page at a time (it showed the latest 50 and no more); with `q`,
    those whose file name or bureau holds it, or of `kinds` (the kinds whose Chinese name holds it); with `status`
    (pending, confirmed or declined; anything else: all), those in it; with `only`, those of these ids (the ones the
    caller may confirm, `confirmation.waiting`)."""
    stmt = _imports(principal, None)
    if only is not None:
        stmt = stmt.where(RegisterImport.id.in_(sorted(only)))
    if status in STATUSES:
        stmt = stmt.where(RegisterImport.status == status)
    q = fold_search(q)
    if q:
        stmt = stmt.where(or_(text_search(q, [RegisterImport.filename, RegisterImport.bureau, RegisterImport.kind]),
                              RegisterImport.kind.in_(sorted(set(kinds)))))
    return page_of(session, stmt, page, page_size)


_IN_FORCE = (select(RegisterImport).where(RegisterImport.county_code == bindparam("county_code"),
                                          RegisterImport.status == "confirmed",
                                          RegisterImport.as_of <= bindparam("on"),
                                          RegisterImport.valid_until >= bindparam("on"))
             .order_by(RegisterImport.as_of, RegisterImport.imported_at, RegisterImport.id))


def in_force(session: Session, county_code: str, on: date) -> list[RegisterImport]:
    """The registers consulted on `on`: per kind and bureau, the latest confirmed import whose data date and validity
    cover it (a proposal waiting for its second reviewer, or a declined one, is never consulted)."""
    latest: dict[tuple[str, str], RegisterImport] = {}
    for imp in session.scalars(_IN_FORCE, {"county_code": county_code, "on": on}):
        latest[(imp.kind, imp.bureau)] = imp
    return sorted(latest.values(), key=lambda i: (KINDS.index(i.kind), i.bureau))


def entries_of(session: Session, county_code: str, import_ids: Sequence[str],
               bidxs: Iterable[str]) -> dict[str, list[tuple[int, str, int | None, int | None, dict[str, Any]]]]:
    """Every entry of these registers naming these people: blind index → [(entry id, import id, amount, year,
    facts)]. One indexed look-up per chunk of people, whatever the registers' size."""
    wanted = list(dict.fromkeys(bidxs))
    found: dict[str, list[tuple[int, str, int | None, int | None, dict[str, Any]]]] = defaultdict(list)
    if not wanted or not import_ids:
        return found
    ids = list(import_ids)
    e = RegisterEntry
    for i in range(0, len(wanted), _CHUNK):
        for entry_id, import_id, bidx, amount, year, facts in session.execute(
                select(e.id, e.import_id, e.id_number_bidx, e.amount, e.year, e.facts).where(
                    e.county_code == county_code, e.id_number_bidx.in_(wanted[i:i + _CHUNK]),
                    e.import_id.in_(ids))):
            found[bidx].append((entry_id, import_id, amount, year, facts))
    return found


@dataclass(frozen=True)
class Match:
    consulted: list[dict[str, Any]]
    comparisons: int
    new_findings: int


def consulted_of(registers: Sequence[RegisterImport]) -> list[dict[str, Any]]:
    return [{"import_id": r.id, "kind": r.kind, "bureau": r.bureau, "as_of": r.as_of.isoformat(),
             "valid_until": r.valid_until.isoformat(), "sha256": r.file_sha256} for r in registers]


def match_check(session: Session, case: Case, check: Check, *, rules: RegisterRules, clock: Clock,
                actor: str, role: str) -> Match:
    """Compare every member of the check with every register in force today (and its manual cross-checks), adding
    the findings not yet on the check. Findings already there (answered or not) stay as they are."""
    match, entry = find_for_check(session, case, check, rules=rules, clock=clock, actor=actor, role=role)
    if entry is not None:
        audit.append(session, **entry)
    return match


def find_for_check(session: Session, case: Case, check: Check, *, rules: RegisterRules, clock: Clock,
                   actor: str, role: str) -> tuple[Match, dict[str, Any] | None]:
    """`match_check` but its audit entry: the findings added (and flushed), and the arguments of `audit.append`
    for the entry `match_check` appends (None when nothing was found anew). For a caller that appends its own
    entry first, when all the reading is done (checks/service.py `record_check`)."""
    today = clock.today()
    registers = in_force(session, case.county_code, today)
    member_ids = [m["member_id"] for m in check.members]
    if not registers and not any(c.get("finding") == "inconsistent" for c in check.cross_checks or []):
        # no register in force and no cross-check inconsistent: nothing to find
        return Match([], 0, 0), None
    bidx_of = dict(session.execute(select(Member.id, Member.id_number_bidx).where(Member.id.in_(member_ids))).all())
    names = {m["member_id"]: m["name"] for m in check.members}
    member_of = {b: mid for mid, b in bidx_of.items()}
    kinds = {r.id: r.kind for r in registers}
    found = entries_of(session, case.county_code, list(kinds), bidx_of.values())
    candidates: list[dict[str, Any]] = []
    settled: dict[str, int] = {}
    medical_imports: list[str] = []
    for bidx, entries in found.items():
        mid = member_of[bidx]
        for entry_id, import_id, amount, year, facts in entries:
            kind = kinds[import_id]
            if kind == "medical":
                if year == case.contract_year:
                    settled[mid] = settled.get(mid, 0) + (amount or 0)
                    medical_imports.append(import_id)
                continue
            fact = dict(facts)
            if amount is not None:
                fact["amount"] = amount
            candidates.append({"match_key": f"entry:{entry_id}", "member_id": mid, "member_name": names[mid],
                               "kind": kind, "source": "register", "effect": effect_of(kind, amount, rules),
                               "import_id": import_id, "entry_id": entry_id, "fact": fact})
    if settled and medical_disagrees(check.medical_self_paid, sum(settled.values()), rules.medical_tolerance):
        head = next((m for m in check.members if m.get("relation") == "head"), check.members[0])
        candidates.append({"match_key": f"medical:{case.contract_year}", "member_id": None,
                           "member_name": head["name"], "kind": "medical", "source": "register",
                           "effect": "explain", "import_id": sorted(set(medical_imports))[0], "entry_id": None,
                           "fact": {"year": case.contract_year, "settled": sum(settled.values()),
                                    "recorded": check.medical_self_paid, "members": len(settled)}})
    for i, c in enumerate(check.cross_checks or []):
        if c.get("finding") == "inconsistent":
            candidates.append({"match_key": f"manual:{i}", "member_id": None, "member_name": "",
                               "kind": str(c.get("source") or "other"), "source": "manual", "effect": "explain",
                               "import_id": None, "entry_id": None, "fact": {"note": c.get("note") or ""}})
    have = set(session.scalars(select(RegisterFinding.match_key).where(RegisterFinding.check_id == check.id)))
    new = [c for c in candidates if c["match_key"] not in have]
    now = clock.now()
    for c in new:
        session.add(RegisterFinding(id=new_id("fnd"), case_id=case.id, check_id=check.id, status="open",
                                    found_at=now, **c))
    consulted = consulted_of(registers)
    comparisons = len(member_ids) * len(registers)
    entry = None
    if new:
        session.flush()
        entry = dict(actor=actor, role=role, action="registers.match", subject=case.id,
                     contract_hash=case.contract_hash, clock=clock,
                     payload={"case_id": case.id, "check_id": check.id, "comparisons": comparisons,
                              "registers": [r["import_id"] for r in consulted],
                              "new_findings": dict(sorted(Counter(f"{c['kind']}:{c['effect']}" for c in new).items()))})
    return Match(consulted, comparisons, len(new)), entry


def rematch_case(session: Session, case_id: str, *, principal: Principal, clock: Clock) -> Match | None:
    """Match the case's latest check again (at determination): None when the case is not awaiting one."""
    from ..cases.workflow import load_case

    case = load_case(session, case_id, principal, for_update=True)
    if case.status != "checked":
        return None
    check = _latest_check(session, case.id)
    if check is None:
        return None
    rules = contract_store.get_contract(session, case.contract_id).register_rules
    return match_check(session, case, check, rules=rules, clock=clock, actor=principal.id,
                       role=principal.acting_role(ANSWER_ROLES))


def _latest_check(session: Session, case_id: str) -> Check | None:
    return session.scalar(select(Check).where(Check.case_id == case_id).order_by(Check.seq.desc()).limit(1))


def findings_of(session: Session, check_id: str) -> list[RegisterFinding]:
    return list(session.scalars(select(RegisterFinding).where(RegisterFinding.check_id == check_id)
                                .order_by(RegisterFinding.found_at, RegisterFinding.match_key)))


def case_findings(session: Session, case_id: str) -> list[RegisterFinding]:
    """Every finding of the case, newest check first."""
    return list(session.scalars(select(RegisterFinding).join(Check, Check.id == RegisterFinding.check_id)
                                .where(RegisterFinding.case_id == case_id)
                                .order_by(Check.seq.desc(), RegisterFinding.found_at, RegisterFinding.match_key)))


LINKED_ANSWERER = ("按“四眼原则”，您的账号与{part}的账号有密码关联" + PASSWORD_LINK
                   + "，比对发现须由其他审核人员处理")


def answer_parts(case: Case, check: Check) -> list[recusal_refusals.LinkedPart]:
    """The accounts a finding's answer is the second person of: the check's officers and its recorder."""
    parts = {**{o: "这次入户核查的核查员" for o in check.officer_ids or []}, check.recorded_by: "这次入户核查的录入人"}
    return [recusal_refusals.LinkedPart(who, LINKED_ANSWERER.format(part=part), case_id=case.id,
                                        households=[case.household_id], extra={"why": "password_linked"})
            for who, part in sorted(parts.items()) if who]


def answer_finding(session: Session, finding_id: str, *, outcome: str, note: str, principal: Principal,
                   clock: Clock, case_id: str | None = None) -> RegisterFinding:
    """The supervisor's answer to one finding: explained (a note says why it does not exclude) or upheld. With
    `case_id` (a page of that case), a finding of another case is not found."""
    from ..cases.workflow import load_case

    finding = session.get(RegisterFinding, finding_id)
    if finding is None or case_id is not None and finding.case_id != case_id:
        raise NotFound("没有这条比对发现")
    case = load_case(session, finding.case_id, principal, for_update=True)
    if not principal.has(*ANSWER_ROLES):
        raise Forbidden("只有保险公司审核人员可以处理比对发现")
    problems: list[FieldError] = []
    if outcome not in ("explained", "upheld"):
        problems.append(FieldError("outcome", "explained 或 upheld"))
    text = note.strip()
    if outcome == "explained" and not text:
        problems.append(FieldError("note", "请说明为何这一比对结果不影响认定"))
    if len(text) > MAX_NOTE:
        problems.append(FieldError("note", f"最多 {MAX_NOTE} 个字"))
    if problems:
        raise ValidationFailed(problems)
    check = session.get(Check, finding.check_id)
    assert check is not None
    latest = _latest_check(session, case.id)
    if case.status != "checked" or latest is None or latest.id != check.id:
        raise InvalidState("只有待认定案件最近一次核查的比对发现可以处理")
    if finding.status != "open":
        raise InvalidState("这一比对发现已经处理过")
    if principal.id in check.officer_ids or principal.id == check.recorded_by:
        raise Forbidden("按“四眼原则”，您参与了这次入户核查，比对发现须由其他审核人员处理")
    # nor through an account linked to an officer's or the recorder's by a password
    recusal_refusals.refuse_linked(session, principal, "register_finding", answer_parts(case, check), clock=clock)
    # 回避: explaining a finding away is what keeps the household eligible; upholding it excludes the household
    recusal.refuse_principal(session, principal, [case.household_id], step="register_finding", field="outcome",
                             case_id=case.id, clock=clock)
    finding.status, finding.note = outcome, text or None
    finding.answered_by, finding.answered_at = principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role="insurer_supervisor", action="register_finding.answer",
                 subject=case.id, contract_hash=case.contract_hash, clock=clock,
                 payload={"case_id": case.id, "check_id": check.id, "finding_id": finding.id, "kind": finding.kind,
                          "effect": finding.effect, "outcome": outcome, "note_sha256": audit.text_digest(text)})
    return finding


@dataclass(frozen=True)
class RegisterCounts:
    """What matching did in a period: comparisons (members × registers consulted at each determination), register
    hits, manual (officer) findings, findings upheld (exclusions), explained, and still open."""

    comparisons: int
    determinations: int
    hits: int
    manual: int
    exclusions: int
    households_excluded: int
    explanations: int
    open: int


def register_counts(session: Session, county_code: str, start: date, end: date) -> RegisterCounts:
    """The counts for a county between two days (inclusive, Asia/Shanghai): for the monthly report."""
    from ..store.tables import Determination
    from ..domain.scheme_calendar import day_bounds

    lo, hi = day_bounds(start, end)
    det = session.execute(
        select(func.count(Determination.id), func.coalesce(func.sum(Determination.register_comparisons), 0))
        .join(Case, Case.id == Determination.case_id)
        .where(Case.county_code == county_code, Determination.confirmed_at >= lo,
               Determination.confirmed_at < hi)).one()
    f = RegisterFinding
    in_county = select(Case.id).where(Case.county_code == county_code)
    found = dict(session.execute(select(f.source, func.count()).where(
        f.case_id.in_(in_county), f.found_at >= lo, f.found_at < hi).group_by(f.source)).all())
    answered = dict(session.execute(select(f.status, func.count()).where(
        f.case_id.in_(in_county), f.answered_at >= lo, f.answered_at < hi).group_by(f.status)).all())
    excluded = session.scalar(select(func.count(func.distinct(f.case_id))).where(
        f.case_id.in_(in_county), f.status == "upheld", f.answered_at >= lo, f.answered_at < hi)) or 0
    still_open = session.scalar(select(func.count()).where(f.case_id.in_(in_county), f.status == "open",
                                                           f.found_at < hi)) or 0
    return RegisterCounts(comparisons=int(det[1] or 0), determinations=int(det[0] or 0),
                          hits=int(found.get("register", 0)), manual=int(found.get("manual", 0)),
                          exclusions=int(answered.get("upheld", 0)), households_excluded=int(excluded),
                          explanations=int(answered.get("explained", 0)), open=int(still_open))
