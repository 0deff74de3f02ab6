"""A round from its opening to its draw: commit, freeze, reveal (抽样复核).

Nobody can choose the sample. Whoever supplies the last random input after seeing the population could try
values until the sample suits them; so the county and the insurer each commit to a secret before the population
is frozen and reveal it after, and the seed hashes both (`verifier.domain.sampling.round_seed`).

Conventions
-----------
* **Open.** `open_round` checks the request (the period holds checked cases under one contract, the rates make a
  sample size and none is looser than the accepted contract's, `looser_than_contract`, no frozen or drawn round of the county and kind samples part of the period, and the period starts
  at the latest on the day after the period of the county's previous frozen or drawn round of that kind, so no
  day's checks are left out of every sample: `_refuse_gap`) and stores the round `open` with the contract's `reveal_within_days`. It may name a value to be
  published after the freeze (a lottery draw of a stated date, after today).
* **Commit.** Each party once, while the round is open, by its own role: `county` by a county reviewer,
  `insurer` by an insurer supervisor; one person may not commit for both. The commitment is the hex SHA-256 of
  the secret's bytes. The table's primary key refuses a second commitment.
* **Freeze.** By the county reviewer, refused (409) until both commitments are in. The population (see
  `population_rows`) is stored sorted and its digest, the planned stage-1 size and both commitments are logged in
  the freezing entry; after the commit the signed checkpoint covering that entry is issued and its root kept.
* **Public value.** When one was named it is entered after the freeze, on or after its stated day, and before any
  secret is revealed: whoever enters it cannot yet compute the sample, so a wrong value gains nothing.
* **Reveal.** After the freeze (and the public value), each party by its own role, once: refused (422) unless the
  secret hashes to the commitment. The secrets are shown, and logged, only with the draw: until then nobody can
  compute the sample from the record, so the last to reveal decides blind. Until the draw a revealed secret is
  stored sealed by the Vault (`sealed_secret`), so not even a reader of the database learns it early; the draw
  opens it into `secret`. Reveals open at the freeze (or at the
  public value's entry); a party's last day is `reveal_by` = that day + `reveal_within_days`.
* **Pass-over.** From the day after `reveal_by`, a party that has revealed may pass over one that has not; the
  seed then takes zero bytes for the withheld secret, and the round and the log record the withholding.
* **Draw.** When the last input is in (every party revealed or passed over), in the same transaction:
  seed = `round_seed(digest, checkpoint root, county secret, insurer secret, public value)`; stratified rounds
  draw each town with `draw_stratified`, unstratified ones with `draw_sample`, monetary ones with `mus_select`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import checkpoints as audit_checkpoints
from ..audit import log as audit
from ..clock import Clock
from ..contract import county_named, declared_name
from ..contract_terms_zh import percent
from ..domain import sampling
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..domain.money import format_yuan, parse_rate
from ..domain.sample_stats import RATE_NAMES
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.db import Database
from ..store.twins import write_or_find
from ..store.vault import Vault
from ..store.tables import Check
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK
from . import late_checks, schemas
from .models import SamplingMember, SamplingParty, SamplingRound, SamplingStage
from .plans import RATE_FIELDS, Member, compute_selection, plan_first_stage, strata_sizes
from .service import (
    COMMITMENT,
    COMMITTED,
    DRAWN,
    FROZEN,
    OPENED,
    PARTY_ROLES,
    PASSED_OVER,
    PUBLIC_VALUE,
    REVEALED,
    ROLE,
    _interval,
    _members,
    _plan_of,
    _stages,
    allocation_out,
    insert_picks,
    load_round,
    parties,
    public_value_out,
    revealed,
    waiting_for,
    withheld,
)

SEALED_SECRET = "sampling_party.secret"  # the Vault's associated data for a sealed reveal
PARTY_ROLE_NAMES = tuple(PARTY_ROLES.values())
# What the refusals (and the pages) call a party, a round's status and its kind.
PARTY_ZH = {"county": "县级复核方", "insurer": "保险公司"}
ROUND_STATUS_ZH = {"open": "待双方承诺", "frozen": "已冻结总体，待揭示", "drawn": "已抽取样本"}
ROUND_KIND_NAMES_ZH = {"attribute": "按户抽样", "monetary": "按金额抽样"}
NOT_FROZEN = "本轮总体尚未冻结。"
PARTY_CHOICE = "请选择参与方：县级复核方(county)或保险公司(insurer)"
NO_COMMITMENTS = "本轮在启用承诺机制前已冻结：请重新开始一轮。"


def _party(code: str) -> str:
    return PARTY_ZH.get(code, code)


@dataclass(frozen=True)
class RoundRequest:
    county_code: str
    checked_from: date
    checked_to: date
    confidence: str | None = None
    tolerable_rate: str | None = None
    expected_rate: str | None = None
    min_rate: str | None = None
    kind: str = "attribute"
    stratify_by_town: bool | None = None
    public_value_description: str | None = None
    public_value_available_on: date | None = None


def population_rows(session: Session, county_code: str, start: date, end: date,
                    kind: str) -> list[tuple[str, str, str, int, bool]]:
    """(case id, town, contract id, weight in fen, carried) of the population; carried: a late check a frozen round
    missed (`late_checks`), whatever its contract.

    Attribute rounds: the county's cases whose latest home check was visited in the period (both ends included),
    except cases waiting to be checked again (`screened` or `scheduled`: after a send-back, a failed visit, a review
    request or an upheld objection), withdrawn ones and those merged into another case (its household merged: the
    case kept is sampled by its own check); and,
    whatever the period, those whose latest check was recorded after an earlier round of the county and kind froze
    but is dated within that round's period, until a round takes them in (`late_checks`).
    Monetary rounds: of those, the cases whose latest check has a confirmed determination with relief above zero,
    weighted by that relief in fen, except cases whose village review failed (they will not be paid); the late ones
    carried are those whose determination was confirmed after the earlier round froze (`late_checks.arrived`).
    The rule is `late_checks.population_statement`'s; a frozen round's page reads it too (`late_checks.missed_cases`).
    """
    stmt = late_checks.population_statement(county_code, kind)
    in_period = stmt.where(Check.visited_on >= start, Check.visited_on <= end)
    rows = [(r, False) for r in session.execute(in_period)]
    # A late check under another contract than the period's (the round it missed was the last of its contract's
    # year) is taken in as well: no round of its own contract could come, every period of it being sampled.
    rows += [(r, True) for r in late_checks.carried_rows(session, stmt, county_code, kind, start, end)]
    return [(r[0], r[1], r[2], int(r[4]) if kind == "monetary" else 0, carried) for r, carried in rows]


def _population(session: Session, *, county_code: str, start: date, end: date, kind: str,
                stratified: bool) -> tuple[str, list[Member]]:
    """(contract id, members sorted by case id) of the period's population; 422 when empty or across contracts."""
    rows = population_rows(session, county_code, start, end, kind)
    if not rows:
        what = "且认定保障金大于零" if kind == "monetary" else ""
        raise ValidationFailed.one("checked_from", f"{start} 至 {end} 期间，{county_named(county_code)}没有完成入户核查"
                                                   f"{what}的案件")
    # The round's contract is the period's; a late check carried in from another contract's round does not count.
    contract_ids = sorted({r[2] for r in rows if not r[4]} or {r[2] for r in rows})
    if len(contract_ids) > 1:
        raise ValidationFailed.one("checked_to", f"所选期间的核查分属多个服务合同（{', '.join(contract_ids)}）：请选择同一合同期内的期间")
    members = sorted((Member(case_id, town if stratified else "", weight) for case_id, town, _, weight, _ in rows),
                     key=lambda m: m.case_id)
    return contract_ids[0], members


def _rates_of(rnd: SamplingRound) -> dict[str, Decimal]:
    return {name: Decimal(getattr(rnd, name)) for name in RATE_FIELDS}


def open_twin(session: Session, req: RoundRequest, principal: Principal) -> str | None:
    """A round of the caller's counties still open (nothing frozen) for the same county, kind and period: what the
    same start sent again (a stale tab, the back button) finds instead of opening a second round beside it."""
    if not principal.may_see_county(req.county_code):
        return None
    return session.scalar(select(SamplingRound.id).where(
        SamplingRound.county_code == req.county_code, SamplingRound.kind == req.kind,
        SamplingRound.checked_from == req.checked_from, SamplingRound.checked_to == req.checked_to,
        SamplingRound.status == "open").order_by(SamplingRound.created_at, SamplingRound.id).limit(1))


def start_round(db: Database, req: RoundRequest, *, principal: Principal, clock: Clock) -> tuple[str, bool]:
    """(round id, whether it was open already): the open twin of the request, else a round opened for it. Two starts
    at once open one round (`uq_sampling_round_open` refuses the second, which then opens the first's)."""
    return write_or_find(db, lambda s: open_twin(s, req, principal),
                         lambda s: open_round(s, req, principal=principal, clock=clock).id)


def given_rate_problems(rates: dict[str, str | None]) -> list[FieldError]:
    """What is wrong with each rate given (None: the contract's), all at once: a form sent with a wrong day and a
    wrong rate is told both, not the day first and the rate on the next send."""
    problems: list[FieldError] = []
    for name in RATE_FIELDS:
        given = rates.get(name)
        if given is not None:
            try:
                parse_rate(given, name)
            except ValidationFailed as exc:
                problems += exc.errors
    return problems


# Which way each rate makes a round stricter (a larger sample): up for all but the tolerable rate.
STRICTER_UP = {"confidence": True, "tolerable_rate": False, "expected_rate": True, "min_rate": True}


def looser_than_contract(rates: dict[str, Decimal], spec: Any) -> list[FieldError]:
    """The rates of a round looser than the accepted contract's (`spec`, its sampling section): a round may check
    more than the contract asks, never less, so one reviewer cannot shrink the county's sample by typing rates."""
    problems: list[FieldError] = []
    for name in RATE_FIELDS:
        agreed = Decimal(getattr(spec, name))
        if name in rates and (rates[name] < agreed if STRICTER_UP[name] else rates[name] > agreed):
            bound = "低于" if STRICTER_UP[name] else "高于"
            problems.append(FieldError(name, f"不能{bound}服务合同约定的{RATE_NAMES[name]} {percent(agreed)}"
                                             "（本轮可以比合同更严，不能更宽）"))
    return problems


def open_round(session: Session, req: RoundRequest, *, principal: Principal, clock: Clock) -> SamplingRound:
    """Store a round, open for the parties' commitments; nothing is frozen yet. 409 while its twin is open."""
    principal.require_county(req.county_code, "county")
    twin = open_twin(session, req, principal)
    if twin is not None:
        raise InvalidState(f"本县（区）同一抽样方式、同一核查期间的轮次 {twin} 已经开启，请继续该轮次")
    _refuse_second_sample(session, req)
    problems: list[FieldError] = []
    if req.kind not in ("attribute", "monetary"):
        problems.append(FieldError("kind", "请选择抽样方式：" + "或".join(f"{v}({k})" for k, v in ROUND_KIND_NAMES_ZH.items())))
    if req.checked_to < req.checked_from:
        problems.append(FieldError("checked_to", "不能早于开始日期"))
    if req.kind == "monetary" and req.stratify_by_town:
        problems.append(FieldError("stratify_by_town", "按金额抽样不分层"))
    description = None
    if req.public_value_description is not None or req.public_value_available_on is not None:
        description = " ".join((req.public_value_description or "").split())
        if not description:
            problems.append(FieldError("public_value.description", "必填：说明是哪个公开值、在哪里公布"))
        if req.public_value_available_on is None:
            problems.append(FieldError("public_value.available_on", "必填"))
        elif req.public_value_available_on <= clock.today():
            problems.append(FieldError("public_value.available_on", "须晚于今天：承诺前已知的值不起作用"))
    problems += given_rate_problems({name: getattr(req, name) for name in RATE_FIELDS})
    stratified = req.kind == "attribute" and req.stratify_by_town is not False
    if req.kind in ("attribute", "monetary") and req.checked_to >= req.checked_from:
        try:  # a period without checks is said with the form's other mistakes, not alone first
            contract_id, members = _population(session, county_code=req.county_code, start=req.checked_from,
                                               end=req.checked_to, kind=req.kind, stratified=stratified)
        except ValidationFailed as exc:
            problems += exc.errors
    if problems:
        raise ValidationFailed(problems)
    _refuse_gap(session, req)  # after the period's own errors (no checks in it: 422), as a round it would be
    contract_store.require_accepted(session, contract_id, "按它的抽样参数开始抽样复核")
    contract = contract_store.get_contract(session, contract_id)
    spec = contract.spec.sampling
    rates: dict[str, Decimal] = {}
    for name in RATE_FIELDS:
        given = getattr(req, name)
        try:
            rates[name] = parse_rate(getattr(spec, name) if given is None else given, name)
        except ValidationFailed as exc:
            problems += exc.errors
    problems += looser_than_contract(rates, spec)
    if problems:
        raise ValidationFailed(problems)
    income_tolerance = parse_rate(spec.income_tolerance, "sampling.income_tolerance", high=Decimal(100))
    plan_first_stage(req.kind, stratified, members, rates)  # refuses bad rate combinations now (422), not at the freeze
    rnd = SamplingRound(
        id=new_id("smp"), county_code=req.county_code, kind=req.kind, stratified=stratified,
        checked_from=req.checked_from, checked_to=req.checked_to, contract_id=contract.id,
        contract_hash=contract.content_hash, **{name: str(rates[name]) for name in RATE_FIELDS},
        income_tolerance=str(income_tolerance), status="open", reveal_within_days=spec.reveal_within_days,
        public_value_description=description,
        public_value_available_on=req.public_value_available_on if description else None,
        created_by=principal.id, created_at=clock.now(),
    )
    session.add(rnd)
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=OPENED, subject=rnd.id,
                 contract_hash=rnd.contract_hash, clock=clock, payload={
                     "county_code": rnd.county_code, "kind": rnd.kind, "stratified": stratified,
                     "checked_from": rnd.checked_from.isoformat(), "checked_to": rnd.checked_to.isoformat(),
                     **{name: getattr(rnd, name) for name in RATE_FIELDS}, "income_tolerance": rnd.income_tolerance,
                     "reveal_within_days": rnd.reveal_within_days,
                     "public_value": None if description is None else {
                         "description": description, "available_on": rnd.public_value_available_on.isoformat()}})
    return rnd


def opened_out(rnd: SamplingRound) -> schemas.RoundOpened:
    return schemas.RoundOpened(id=rnd.id, status=rnd.status, contract_id=rnd.contract_id,
                               reveal_within_days=rnd.reveal_within_days, public_value=public_value_out(rnd))


def _require_party_role(principal: Principal, party: str) -> str:
    role = PARTY_ROLES.get(party)
    if role is None:
        raise ValidationFailed.one("party", PARTY_CHOICE)
    if not principal.has(role):
        raise Forbidden(f"只有{_party(party)}的人员才能代表该方操作。")
    return role


def _step(session: Session, rnd: SamplingRound, party: str | None) -> schemas.StepOut:
    by_party = parties(session, rnd.id)
    out = schemas.StepOut(round_id=rnd.id, status=rnd.status, party=party, reveal_by=rnd.reveal_by,
                          waiting_for=waiting_for(rnd, by_party), withheld=withheld(by_party))
    if rnd.status == "drawn" and rnd.seed is not None:
        stages = _stages(session, rnd.id)
        picks = compute_selection(rnd.kind, rnd.stratified, bytes.fromhex(rnd.seed), _members(session, rnd.id),
                                  [_plan_of(stages[0])])
        out.seed = rnd.seed
        out.case_ids = [p.case_id for p in picks]
        if rnd.kind == "monetary":
            out.interval = format_yuan(_interval(rnd, _plan_of(stages[0])))
    return out


LINKED_COMMITTER = ("按“四眼原则”，您的账号与代表{other}提交承诺的人员的账号有密码关联" + PASSWORD_LINK
                    + "：同一人不能代表双方，须由本方其他人员提交承诺。")


def commit(session: Session, round_id: str, party: str, commitment_hex: str, *, principal: Principal,
           clock: Clock) -> schemas.StepOut:
    """Record a party's commitment to its secret, once, while the round is open."""
    role = _require_party_role(principal, party)
    commitment = sampling.parse_commitment(commitment_hex)
    rnd = load_round(session, round_id, principal, for_update=True)
    if rnd.status != "open":
        raise InvalidState("本轮总体已冻结：承诺须在冻结前提交，提交后不能更改。")
    by_party = parties(session, rnd.id)
    if party in by_party:
        raise InvalidState(f"{_party(party)}已提交承诺：每方只能提交一次。")
    if any(row.committed_by == principal.id for row in by_party.values()):
        raise Forbidden("您已代表另一方提交承诺：同一人不能代表双方。")
    # nor one person through two accounts: both secrets in one hand could be tried until the sample suits them
    recusal_refusals.refuse_linked(session, principal, "sampling_commit", [recusal_refusals.LinkedPart(
        row.committed_by, LINKED_COMMITTER.format(other=_party(other)), households=[], county_code=rnd.county_code,
        subject=rnd.id, extra={"round_id": rnd.id, "why": "password_linked"})
        for other, row in sorted(by_party.items())], clock=clock)
    row = SamplingParty(round_id=rnd.id, party=party, commitment=commitment.hex(), committed_by=principal.id,
                        committed_at=clock.now(), commit_index=0)
    session.add(row)
    session.flush()
    row.commit_index = audit.append(session, actor=principal.id, role=role, action=COMMITMENT, subject=rnd.id,
                                    contract_hash=rnd.contract_hash, clock=clock,
                                    payload={"party": party, "commitment": row.commitment})
    return _step(session, rnd, party)


def _refuse_second_sample(session: Session, rnd: SamplingRound | RoundRequest) -> None:
    """409 when another round of the county and kind, frozen or drawn, covers part of this round's period: two
    samples of the same checks would let whoever records the results keep the one that suits them. Asked when a
    round is opened too (`rnd` is then its request): a round that could never be frozen is not started, and the two
    parties do not commit to it in vain."""
    other = session.scalar(select(SamplingRound).where(
        SamplingRound.county_code == rnd.county_code, SamplingRound.kind == rnd.kind,
        SamplingRound.id != (rnd.id if isinstance(rnd, SamplingRound) else ""),
        SamplingRound.status.in_(("frozen", "drawn")), SamplingRound.checked_from <= rnd.checked_to,
        SamplingRound.checked_to >= rnd.checked_from).order_by(SamplingRound.created_at).limit(1))
    if other is not None:
        raise InvalidState(f"本县（区）已有一轮同一抽样方式的轮次（{ROUND_STATUS_ZH.get(other.status, other.status)}，核查期间 "
                           f"{other.checked_from} 至 {other.checked_to}）抽取了这段期间的核查：同一批核查不能抽取两次样本"
                           "（否则可以在两个样本中挑选）。请另选与之不重叠的核查期间，或在该轮次中扩大样本。")


def _refuse_gap(session: Session, rnd: SamplingRound | RoundRequest) -> None:
    """409 when the county's previous round of the kind (frozen or drawn, the latest whose period ends before this
    one starts) ends more than a day before this period starts: the checks of the days between would fall into no
    sample, and whoever sets a round's start could leave a chosen week unsampled. The county's first round is free.
    Same scope as `_refuse_second_sample`; asked at the opening and again at the freeze."""
    previous = session.scalar(select(SamplingRound).where(
        SamplingRound.county_code == rnd.county_code, SamplingRound.kind == rnd.kind,
        SamplingRound.id != (rnd.id if isinstance(rnd, SamplingRound) else ""),
        SamplingRound.status.in_(("frozen", "drawn")), SamplingRound.checked_to < rnd.checked_from)
        .order_by(SamplingRound.checked_to.desc(), SamplingRound.created_at).limit(1))
    if previous is None:
        return
    first_free = previous.checked_to + timedelta(days=1)
    if rnd.checked_from > first_free:
        county = declared_name("counties", previous.county_code) or previous.county_code
        raise InvalidState(f"上一轮抽样（{county} · {ROUND_KIND_NAMES_ZH.get(previous.kind, previous.kind)} · "
                           f"{previous.checked_from} 至 {previous.checked_to}）截至 {previous.checked_to}，"
                           f"本轮须自 {first_free} 起，不能留下未纳入抽样的日期（{first_free} 至 "
                           f"{rnd.checked_from - timedelta(days=1)}）。")


def freeze(session: Session, round_id: str, *, principal: Principal, clock: Clock) -> SamplingRound:
    """Freeze the population, once both parties have committed, and append the freezing entry."""
    rnd = load_round(session, round_id, principal, for_update=True)
    if rnd.status != "open":
        raise InvalidState("本轮总体已冻结。")
    by_party = parties(session, rnd.id)
    missing = [p for p in sampling.PARTIES if p not in by_party]
    if missing:
        raise InvalidState(f"双方都提交承诺后才能冻结总体；尚缺：{'、'.join(_party(p) for p in missing)}。")
    _refuse_second_sample(session, rnd)
    _refuse_gap(session, rnd)
    contract_id, members = _population(session, county_code=rnd.county_code, start=rnd.checked_from,
                                       end=rnd.checked_to, kind=rnd.kind, stratified=rnd.stratified)
    if contract_id != rnd.contract_id:
        raise InvalidState(f"所选期间的核查现属服务合同 {contract_id}，不再是 {rnd.contract_id}：请重新开始一轮。")
    plan = plan_first_stage(rnd.kind, rnd.stratified, members, _rates_of(rnd))
    now = clock.now()
    rnd.population_size = len(members)
    rnd.population_total = sum(m.weight for m in members)
    rnd.population_digest = sampling.population_digest([m.case_id for m in members]).hex()
    rnd.method = plan.method
    rnd.status = "frozen"
    rnd.frozen_by, rnd.frozen_at = principal.id, now
    if rnd.public_value_description is None:
        rnd.reveal_by = sampling.reveal_deadline(clock.today(), rnd.reveal_within_days)
    # One bulk INSERT (a population may hold tens of thousands of cases), not an object per member.
    session.execute(insert(SamplingMember), [{"round_id": rnd.id, "case_id": m.case_id, "stratum": m.stratum,
                                              "weight": m.weight} for m in members])
    session.add(SamplingStage(round_id=rnd.id, stage=1, size=plan.size, method=plan.method,
                              expected_deviations=plan.expected_deviations, limited_by=plan.limited_by,
                              allocation=dict(plan.allocation), created_by=principal.id, created_at=now))
    session.flush()
    payload: dict[str, Any] = {
        "county_code": rnd.county_code, "kind": rnd.kind, "stratified": rnd.stratified,
        "checked_from": rnd.checked_from.isoformat(), "checked_to": rnd.checked_to.isoformat(),
        **{name: getattr(rnd, name) for name in RATE_FIELDS}, "income_tolerance": rnd.income_tolerance,
        "population_size": rnd.population_size, "population_digest": rnd.population_digest,
        "sample_size": plan.size, "method": plan.method, "expected_deviations": plan.expected_deviations,
        "limited_by": plan.limited_by, "allocation": dict(plan.allocation),
        "strata": strata_sizes(members) if rnd.stratified else {},
        "commitments": {p: by_party[p].commitment for p in sampling.PARTIES},
        "reveal_by": None if rnd.reveal_by is None else rnd.reveal_by.isoformat(),
    }
    if rnd.kind == "monetary":
        payload["population_total"] = format_yuan(rnd.population_total)
    rnd.freeze_index = audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=FROZEN,
                                    subject=rnd.id, payload=payload, contract_hash=rnd.contract_hash, clock=clock)
    return rnd


def commit_round(db: Database, signer: audit_checkpoints.Signer | None, round_id: str, *,
                 principal: Principal | None, clock: Clock) -> None:
    """Issue the signed checkpoint covering the round's freezing entry and store its size and root with the round.

    Does nothing when the round is not frozen yet or has its checkpoint already (safe to repeat).
    """
    with db.read() as session:
        rnd = load_round(session, round_id, principal)
        if rnd.checkpoint_size is not None or rnd.freeze_index is None:
            return
        freeze_index = rnd.freeze_index
    if signer is None:
        raise InvalidState("没有可用的审计签名密钥，无法固定本轮总体。")
    checkpoint = audit_checkpoints.issue_checked(db, signer, clock=clock)
    if checkpoint.tree_size <= freeze_index:  # pragma: no cover - the entry is committed
        raise RuntimeError("the checkpoint does not cover the round's freezing entry")
    with db.begin() as session:
        rnd = load_round(session, round_id, principal, for_update=True)
        if rnd.checkpoint_size is not None:
            return
        rnd.checkpoint_size = checkpoint.tree_size
        rnd.checkpoint_root = checkpoint.root.hex()
        rnd.checkpoint_note = checkpoint.note
        session.flush()
        audit.append(session, actor=principal.id if principal else "system",
                     role=principal.acting_role((ROLE,)) if principal else "system", action=COMMITTED,
                     subject=rnd.id, contract_hash=rnd.contract_hash, clock=clock, payload={
                         "freeze_index": freeze_index, "checkpoint_size": checkpoint.tree_size,
                         "checkpoint_root": checkpoint.root.hex(), "checkpoint_key_id": checkpoint.key_id})


def frozen_view(db: Database, signer: audit_checkpoints.Signer | None, round_id: str, *,
                principal: Principal, clock: Clock) -> schemas.RoundCreated:
    """The answer to a round's freeze, committing it to a checkpoint first when that is still to do (idempotent)."""
    commit_round(db, signer, round_id, principal=principal, clock=clock)
    with db.read() as session:
        rnd = load_round(session, round_id, principal)
        if rnd.status == "open":
            raise InvalidState(NOT_FROZEN)
        stage = _stages(session, round_id)[0]
        assert rnd.checkpoint_note is not None and rnd.checkpoint_size is not None and rnd.freeze_index is not None
        assert rnd.population_size is not None and rnd.population_digest is not None
        return schemas.RoundCreated(
            id=rnd.id, status=rnd.status, kind=rnd.kind, population_size=rnd.population_size,
            sample_size=stage.size, population_digest=rnd.population_digest, checkpoint=rnd.checkpoint_note,
            checkpoint_size=rnd.checkpoint_size, audit_index=rnd.freeze_index, method=stage.method,
            expected_deviations=stage.expected_deviations, limited_by=stage.limited_by, stratified=rnd.stratified,
            allocation=allocation_out(session, rnd, stage),
            population_total=format_yuan(rnd.population_total) if rnd.kind == "monetary" else None,
        )


def freeze_round(db: Database, signer: audit_checkpoints.Signer | None, round_id: str, *,
                 principal: Principal, clock: Clock) -> schemas.RoundCreated:
    """Freeze (one transaction), commit to a checkpoint (after it), and answer with both."""
    with db.begin() as session:
        freeze(session, round_id, principal=principal, clock=clock)
    return frozen_view(db, signer, round_id, principal=principal, clock=clock)


def _frozen_for_inputs(rnd: SamplingRound) -> None:
    if rnd.status == "open":
        raise InvalidState("本轮总体尚未冻结：秘密值在冻结之后揭示。")
    if rnd.status == "drawn":
        raise InvalidState("本轮样本已抽取。")
    if rnd.checkpoint_root is None:
        raise InvalidState("本轮总体尚未写入签名检查点。")


def enter_public_value(session: Session, round_id: str, value: str, *, principal: Principal,
                       clock: Clock) -> schemas.StepOut:
    """Enter the value the round named, once, after the freeze and before any secret is revealed."""
    text = sampling.normalise_public_value(value)
    rnd = load_round(session, round_id, principal, for_update=True)
    _frozen_for_inputs(rnd)
    if rnd.public_value_description is None or rnd.public_value_available_on is None:
        raise InvalidState("本轮没有约定公开随机值。")
    if rnd.public_value is not None:
        raise InvalidState("公开随机值已录入。")
    if clock.today() < rnd.public_value_available_on:
        raise InvalidState(f"公开随机值于 {rnd.public_value_available_on} 公布，此前不能录入。")
    by_party = parties(session, rnd.id)
    if not by_party:
        raise InvalidState(NO_COMMITMENTS)
    if any(revealed(row) for row in by_party.values()):  # pragma: no cover - reveals wait for the value
        raise InvalidState("已有一方揭示了秘密值：公开随机值须在揭示之前录入")
    rnd.public_value, rnd.public_value_by, rnd.public_value_at = text, principal.id, clock.now()
    rnd.reveal_by = sampling.reveal_deadline(clock.today(), rnd.reveal_within_days)
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(PARTY_ROLE_NAMES), action=PUBLIC_VALUE,
                 subject=rnd.id, contract_hash=rnd.contract_hash, clock=clock,
                 payload={"value": text, "reveal_by": rnd.reveal_by.isoformat()})
    return _step(session, rnd, None)


def reveal(session: Session, round_id: str, party: str, secret_hex: str, *, principal: Principal,
           clock: Clock, vault: Vault) -> schemas.StepOut:
    """Reveal a party's secret; refused unless it hashes to the commitment. Draws when it is the last input."""
    role = _require_party_role(principal, party)
    secret = sampling.parse_secret(secret_hex)
    rnd = load_round(session, round_id, principal, for_update=True)
    _frozen_for_inputs(rnd)
    by_party = parties(session, rnd.id)
    row = by_party.get(party)
    if row is None:
        raise InvalidState(NO_COMMITMENTS)
    if rnd.public_value_description is not None and rnd.public_value is None:
        raise InvalidState("须先录入本轮约定的公开随机值，再揭示秘密值。")
    if revealed(row):
        raise InvalidState(f"{_party(party)}已揭示秘密值。")
    if row.passed_over_at is not None:
        raise InvalidState(f"{_party(party)}未在 {rnd.reveal_by} 前揭示，已被略过。")
    if not sampling.reveal_matches(secret, bytes.fromhex(row.commitment)):
        raise ValidationFailed.one("secret", "与该方此前提交的承诺值不符（承诺值应为秘密值字节的 SHA-256）")
    # Sealed until the draw, and logged with it: until then the record does not let anyone compute the sample.
    row.sealed_secret = vault.seal(secret.hex(), SEALED_SECRET)
    row.revealed_by, row.revealed_at = principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role=role, action=REVEALED, subject=rnd.id,
                 contract_hash=rnd.contract_hash, clock=clock, payload={"party": party, "commitment": row.commitment})
    _draw_when_complete(session, rnd, by_party, principal=principal, clock=clock, vault=vault)
    return _step(session, rnd, party)


def pass_over(session: Session, round_id: str, party: str, *, principal: Principal, clock: Clock,
              vault: Vault) -> schemas.StepOut:
    """Proceed without a party that has not revealed by its deadline (by the other party, after the deadline)."""
    if party not in PARTY_ROLES:
        raise ValidationFailed.one("party", PARTY_CHOICE)
    other = next(p for p in sampling.PARTIES if p != party)
    role = _require_party_role(principal, other)
    rnd = load_round(session, round_id, principal, for_update=True)
    _frozen_for_inputs(rnd)
    by_party = parties(session, rnd.id)
    if party not in by_party or other not in by_party:
        raise InvalidState(NO_COMMITMENTS)
    row = by_party[party]
    if revealed(row):
        raise InvalidState(f"{_party(party)}已揭示秘密值，无需略过。")
    if row.passed_over_at is not None:
        raise InvalidState(f"{_party(party)}已被略过。")
    if not revealed(by_party[other]):
        raise InvalidState(f"请先揭示本方（{_party(other)}）的秘密值，再略过{_party(party)}。")
    if rnd.reveal_by is None or not sampling.may_pass_over(clock.today(), rnd.reveal_by):
        raise InvalidState(f"{_party(party)}可在 {rnd.reveal_by} 前（含当日）揭示：过了这一天才能略过。")
    row.passed_over_by, row.passed_over_at = principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role=role, action=PASSED_OVER, subject=rnd.id,
                 contract_hash=rnd.contract_hash, clock=clock,
                 payload={"party": party, "commitment": row.commitment, "reveal_by": rnd.reveal_by.isoformat()})
    _draw_when_complete(session, rnd, by_party, principal=principal, clock=clock, vault=vault)
    return _step(session, rnd, party)


def seed_of(rnd: SamplingRound, by_party: dict[str, SamplingParty]) -> bytes:
    """The round's seed from its recorded inputs (a party passed over gives zero bytes)."""
    assert rnd.population_digest is not None and rnd.checkpoint_root is not None
    secrets = {p: bytes.fromhex(row.secret) if row.secret is not None else None for p, row in by_party.items()}
    return sampling.round_seed(bytes.fromhex(rnd.population_digest), bytes.fromhex(rnd.checkpoint_root),
                               secrets.get("county"), secrets.get("insurer"), rnd.public_value)


def _open_reveals(by_party: dict[str, SamplingParty], vault: Vault) -> None:
    """At the draw: each sealed reveal opened into `secret` (logged with the draw), the sealed copy dropped."""
    for row in by_party.values():
        if row.sealed_secret is not None:
            row.secret, row.sealed_secret = vault.open(bytes(row.sealed_secret), SEALED_SECRET), None


def _draw_when_complete(session: Session, rnd: SamplingRound, by_party: dict[str, SamplingParty], *,
                        principal: Principal, clock: Clock, vault: Vault) -> None:
    if waiting_for(rnd, by_party):
        return
    _open_reveals(by_party, vault)
    seed = seed_of(rnd, by_party)
    plans = [_plan_of(s) for s in _stages(session, rnd.id)]
    picks = compute_selection(rnd.kind, rnd.stratified, seed, _members(session, rnd.id), plans)
    insert_picks(session, rnd.id, picks)
    rnd.seed = seed.hex()
    rnd.status = "drawn"
    rnd.drawn_by, rnd.drawn_at = principal.id, clock.now()
    session.flush()
    case_ids = [p.case_id for p in picks]
    interval = _interval(rnd, plans[-1]) if rnd.kind == "monetary" else None
    audit.append(session, actor=principal.id, role=principal.acting_role(PARTY_ROLE_NAMES), action=DRAWN,
                 subject=rnd.id, contract_hash=rnd.contract_hash, clock=clock, payload={
                     "seed": rnd.seed, "population_digest": rnd.population_digest,
                     "checkpoint_size": rnd.checkpoint_size, "checkpoint_root": rnd.checkpoint_root,
                     "secrets": {p: by_party[p].secret for p in sampling.PARTIES},
                     "withheld": withheld(by_party), "public_value": rnd.public_value, "stage": 1,
                     "sample_size": len(case_ids), "case_ids": case_ids,
                     **({"interval": format_yuan(interval)} if interval is not None else {})})


def ready_for_inputs(db: Database, signer: audit_checkpoints.Signer | None, round_id: str, *,
                     principal: Principal, clock: Clock) -> None:
    """Issue the round's checkpoint if an interruption left a frozen round without it (before any reveal)."""
    commit_round(db, signer, round_id, principal=principal, clock=clock)
