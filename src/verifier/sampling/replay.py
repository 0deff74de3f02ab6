"""`verifier sampling replay ROUND`: re-derive a round's sample from its recorded inputs alone and compare.

Checks, naming whatever differs: the population digest (recomputed from the frozen case ids); the freezing entry
and its inclusion in the signed checkpoint the round recorded; the planned sizes; each party's commitment as stored,
as logged when made and as logged in the freezing entry; each revealed secret against its commitment; the parties
passed over against the log; the seed recomputed from the digest, the checkpoint root, the secrets and the public
value (`domain.sampling.round_seed`), against the stored and the logged seed; and the draw, stored and logged.
Rounds drawn with the withdrawn single-party randomness are replayed with `domain.sampling.derive_seed`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import checkpoints as audit_checkpoints
from ..audit import log as audit
from ..audit import merkle
from ..audit import proofs as audit_proofs
from ..audit.canonical import CanonicalError, decode_entry
from ..audit.models import AuditEntry
from ..audit.notes import NoteError, VerifierKey, open_checkpoint
from ..audit.notes_zh import note_zh
from ..domain import sampling
from ..domain.errors import InvalidState, ValidationFailed
from .models import SamplingRound
from .plans import RATE_FIELDS, Member, Plan, compute_selection, plan_expansion, plan_first_stage
from .service import (
    COMMITMENT,
    DRAWN,
    EXPANDED,
    FROZEN,
    PASSED_OVER,
    _items,
    _members,
    _plan_of,
    _rates,
    _stages,
    load_round,
    parties,
)

Entry = tuple[int, Any, bytes]


@dataclass
class ReplayReport:
    round_id: str
    confirmed: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def check(self, condition: bool, confirmed: str, difference: str) -> bool:
        (self.confirmed if condition else self.differences).append(confirmed if condition else difference)
        return condition


# How the report names what it checked: in Chinese, for the person at the server (ids, hashes and sizes as they are).
_NAMES = {"population_digest": "总体摘要", "population_size": "总体数量", "confidence": "置信度",
          "tolerable_rate": "可容忍偏差率", "expected_rate": "预期偏差率", "min_rate": "最低抽样比例"}
_PARTIES = {"county": "县级复核方", "insurer": "保险公司"}


def _name(field_name: str) -> str:
    return _NAMES.get(field_name, field_name)


def _party(party: str) -> str:
    return _PARTIES.get(party, party)


def _values(values: Any) -> str:
    """A logged value or list of values as the report prints it (无 for none)."""
    if values is None or values == []:
        return "无"
    return "、".join(str(v) for v in values) if isinstance(values, list) else str(values)


def _indices(indices: list[int]) -> str:
    return "、".join(f"第 {i} 条" for i in indices) or "没有"


def _pick(rest: list[Any]) -> str:
    stage, stratum, position, units = rest
    return f"第 {stage} 阶段，层 {stratum or '—'}，位置 {position}，单位 {units}"


def _plan(plan: Plan) -> str:
    allocation = "，".join(f"{town} {n}" for town, n in sorted(plan.allocation.items()))
    return f"{plan.size} 件" + (f"（{allocation}）" if allocation else "")


def message_zh(detail: str) -> str:
    """A service's refusal (why a size or the draw cannot be recomputed) in Chinese."""
    from ..web.stagelabels import zh

    return zh(detail)


def _entries(session: Session, round_id: str) -> list[tuple[int, Any, bytes]]:
    """(index, decoded entry, leaf hash) of the round's audit entries, in log order."""
    out = []
    for row in session.scalars(select(AuditEntry).where(AuditEntry.subject == round_id).order_by(AuditEntry.idx)):
        try:
            out.append((row.idx, decode_entry(bytes(row.entry)), merkle.leaf_hash(bytes(row.entry))))
        except CanonicalError:
            out.append((row.idx, None, merkle.leaf_hash(bytes(row.entry))))
    return out


def replay(session: Session, round_id: str, *, keys: Sequence[VerifierKey] = ()) -> ReplayReport:
    """Re-derive a round from its recorded inputs and compare with what was stored and logged (see the module)."""
    rnd = load_round(session, round_id, None)
    rep = ReplayReport(rnd.id)
    if rnd.status == "open":
        rep.differences.append("抽样轮次仍在开放中：总体还未冻结，没有可以重演的抽取")
        return rep
    members = _members(session, rnd.id)
    digest = sampling.population_digest([m.case_id for m in members]).hex()
    rep.check(digest == rnd.population_digest and len(members) == rnd.population_size,
              f"总体摘要 {digest}（{len(members)} 件案件）",
              f"总体摘要：重新计算为 {digest}（{len(members)} 件案件），记录为 {rnd.population_digest}"
              f"（{rnd.population_size} 件）")
    by_action: dict[str, list[Entry]] = {}
    for e in _entries(session, rnd.id):
        if e[1] is None:
            rep.differences.append(f"本轮的第 {e[0]} 条审计记录不是规范格式")
        else:
            by_action.setdefault(e[1].action, []).append(e)
    frozen = by_action.get(FROZEN, [])
    frozen_payload = frozen[0][1].payload if len(frozen) == 1 else None
    if rep.check(len(frozen) == 1 and frozen[0][0] == rnd.freeze_index, f"冻结记录（第 {rnd.freeze_index} 条）",
                 f"冻结记录：应有一条，位于第 {rnd.freeze_index} 条，"
                 f"实际为 {_indices([e[0] for e in frozen])}"):
        for name, stored in (("population_digest", rnd.population_digest), ("population_size", rnd.population_size),
                             *((name, getattr(rnd, name)) for name in RATE_FIELDS)):
            rep.check(frozen_payload.get(name) == stored, f"审计日志中的{_name(name)}",
                      f"{_name(name)}：日志记录为 {frozen_payload.get(name)}，保存的是 {stored}")
        _check_checkpoint(session, rnd, frozen[0], keys, rep)
    plans = [_plan_of(s) for s in _stages(session, rnd.id)]
    _check_plans(rnd, members, plans, frozen_payload, by_action.get(EXPANDED, []), rep)
    if rnd.seed is None:
        rep.differences.append("本轮还未抽取：没有可以重演的抽取")
        return rep
    if rnd.checkpoint_root is None or rnd.population_digest is None:
        rep.differences.append("本轮抽取时没有记录签名检查点的根哈希")
        return rep
    drawn = by_action.get(DRAWN, [])
    drawn_payload = drawn[0][1].payload if len(drawn) == 1 else None
    rep.check(len(drawn) == 1, "抽取记录", f"抽取记录：应有一条，实际有 {len(drawn)} 条")
    # A round of the old single-party flow has randomness and nothing of commit-reveal; one frozen with commitments
    # is never replayed by the old formula, so rewriting it into an old-style round cannot pass.
    committed = bool((frozen_payload or {}).get("commitments") or by_action.get(COMMITMENT) or parties(session, rnd.id))
    if rnd.randomness is not None and committed:
        rep.differences.append("本轮冻结时已有承诺值，却带有单方随机数")
        return rep
    if rnd.randomness is not None:
        seed = sampling.derive_seed(bytes.fromhex(rnd.population_digest), bytes.fromhex(rnd.checkpoint_root),
                                    bytes.fromhex(rnd.randomness))
        if drawn_payload is not None:
            rep.check(drawn_payload.get("randomness") == rnd.randomness, "审计日志中的随机数",
                      "审计日志中的随机数与保存的不同")
    else:
        seed = _check_commit_reveal(session, rnd, frozen_payload, drawn_payload, by_action, rep)
        if seed is None:
            return rep
    rep.check(seed.hex() == rnd.seed, f"种子 {seed.hex()}", f"种子：重新计算为 {seed.hex()}，保存的是 {rnd.seed}")
    if drawn_payload is not None:
        rep.check(drawn_payload.get("seed") == seed.hex(), "审计日志中的种子",
                  f"种子：重新计算为 {seed.hex()}，日志记录为 {drawn_payload.get('seed')}")
    try:
        picks = compute_selection(rnd.kind, rnd.stratified, seed, members, plans)
    except ValidationFailed as exc:
        rep.differences.append(f"无法重新抽取：{message_zh(exc.detail)}")
        return rep
    stored = [(i.case_id, i.stage, i.stratum, i.position, i.units) for i in _items(session, rnd.id)]
    again = [(p.case_id, p.stage, p.stratum, p.position, p.units) for p in picks]
    stored_set, again_set = set(stored), set(again)
    if not rep.check(stored_set == again_set, f"抽取结果（{len(plans)} 个阶段共 {len(again)} 件）",
                     "抽取结果不同"):
        for case_id, *rest in sorted(again_set - stored_set)[:10]:
            rep.differences.append(f"  重新抽中但未保存：{case_id}（{_pick(rest)}）")
        for case_id, *rest in sorted(stored_set - again_set)[:10]:
            rep.differences.append(f"  保存了但重新抽取未抽中：{case_id}（{_pick(rest)}）")
    logged = list(drawn_payload.get("case_ids", [])) if drawn_payload is not None else []
    for _, entry, _ in by_action.get(EXPANDED, []):
        logged += entry.payload.get("case_ids", [])
    rep.check(logged == [p.case_id for p in picks], "审计日志中的样本", "审计日志中记录的样本与重新抽取的不同")
    return rep


def _check_commit_reveal(session: Session, rnd: SamplingRound, frozen_payload: Any, drawn_payload: Any,
                         by_action: dict[str, list[Entry]], rep: ReplayReport) -> bytes | None:
    """Check every party's commitment, reveal or pass-over against the log; the seed from the stored inputs."""
    by_party = parties(session, rnd.id)
    logged_commitments: dict[str, list[str]] = {}
    for _, entry, _ in by_action.get(COMMITMENT, []):
        logged_commitments.setdefault(entry.payload.get("party"), []).append(entry.payload.get("commitment"))
    passed = {entry.payload.get("party") for _, entry, _ in by_action.get(PASSED_OVER, [])}
    frozen_commitments = (frozen_payload or {}).get("commitments") or {}
    logged_secrets = (drawn_payload or {}).get("secrets") or {}
    for party in sampling.PARTIES:
        row = by_party.get(party)
        if row is None:
            rep.differences.append(f"{_party(party)}承诺值：没有记录")
            continue
        rep.check(logged_commitments.get(party) == [row.commitment], f"{_party(party)}承诺值（提交时的日志）",
                  f"{_party(party)}承诺值：保存的是 {row.commitment}，提交时日志记录为 {_values(logged_commitments.get(party))}")
        rep.check(frozen_commitments.get(party) == row.commitment, f"{_party(party)}承诺值（冻结时的日志）",
                  f"{_party(party)}承诺值：保存的是 {row.commitment}，冻结时日志记录为 {_values(frozen_commitments.get(party))}")
        if row.secret is None:
            rep.check(row.passed_over_at is not None and party in passed, f"{_party(party)}逾期未揭示，已越过（有日志）",
                      f"{_party(party)}秘密值：日志中既没有揭示也没有越过")
            rep.check(logged_secrets.get(party) is None, f"{_party(party)}秘密值在抽取记录中为空",
                      f"{_party(party)}秘密值：没有保存，日志记录为 {logged_secrets.get(party)}")
            continue
        rep.check(party not in passed, f"{_party(party)}未被越过",
                  f"{_party(party)}：日志记录为越过，却保存了秘密值")
        try:
            secret = bytes.fromhex(row.secret)
        except ValueError:
            rep.differences.append(f"{_party(party)}秘密值：保存的值不是十六进制")
            return None
        rep.check(sampling.reveal_matches(secret, bytes.fromhex(row.commitment)),
                  f"{_party(party)}秘密值的哈希与承诺值相符",
                  f"{_party(party)}秘密值：其 SHA-256 {sampling.commitment_of(secret).hex()} 与承诺值 "
                  f"{row.commitment} 不符")
        rep.check(logged_secrets.get(party) == row.secret, f"{_party(party)}秘密值（抽取时的日志）",
                  f"{_party(party)}秘密值：保存的是 {row.secret}，抽取时日志记录为 {logged_secrets.get(party)}")
    if drawn_payload is not None:
        rep.check(drawn_payload.get("public_value") == rnd.public_value, "审计日志中的公开随机值",
                  f"公开随机值：保存的是 {rnd.public_value}，日志记录为 {drawn_payload.get('public_value')}")
    if rnd.public_value_description is not None and rnd.public_value is None:
        rep.differences.append("公开随机值：本轮指明了来源，却没有记录其值")
    secrets = {p: bytes.fromhex(r.secret) if r.secret else None for p, r in by_party.items()}
    try:
        return sampling.round_seed(bytes.fromhex(rnd.population_digest or ""), bytes.fromhex(rnd.checkpoint_root or ""),
                                   secrets.get("county"), secrets.get("insurer"), rnd.public_value)
    except (ValueError, ValidationFailed) as exc:
        rep.differences.append(f"无法重新计算种子：{message_zh(str(getattr(exc, 'detail', exc)))}")
        return None


def _check_checkpoint(session: Session, rnd: SamplingRound, frozen: tuple[int, Any, bytes],
                      keys: Sequence[VerifierKey], rep: ReplayReport) -> None:
    if rnd.checkpoint_note is None or rnd.checkpoint_size is None or rnd.checkpoint_root is None:
        rep.differences.append("本轮没有记录签名检查点")
        return
    trusted = list(keys) or audit_checkpoints.known_keys(session)
    try:
        checkpoint, _ = open_checkpoint(rnd.checkpoint_note, trusted)
    except NoteError as exc:
        rep.differences.append(f"检查点签名：{note_zh(exc)}")
        return
    rep.confirmed.append(f"检查点签名（日志 {checkpoint.origin}，长度 {checkpoint.size}）")
    if not rep.check(checkpoint.size == rnd.checkpoint_size and checkpoint.root.hex() == rnd.checkpoint_root,
                     "检查点的长度与根哈希", "签名检查点的长度或根哈希与本轮记录的不同"):
        return
    index, _, leaf = frozen
    try:
        proof = audit_proofs.inclusion_proof(session, index, checkpoint.size)
        merkle.verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root)
    except (ValueError, audit.LogCorrupt) as exc:
        rep.differences.append(f"冻结记录（第 {index} 条）不在长度 {checkpoint.size} 的签名检查点内："
                               f"{note_zh(exc, '包含证明不成立')}")
        return
    rep.confirmed.append(f"冻结记录（第 {index} 条）包含在签名检查点内（证明含 {len(proof)} 个哈希）")


def _check_plans(rnd: SamplingRound, members: Sequence[Member], plans: Sequence[Plan], frozen_payload: Any,
                 expansions: Sequence[tuple[int, Any, bytes]], rep: ReplayReport) -> None:
    if not plans:
        rep.differences.append("本轮没有任何阶段")
        return
    rates = _rates(rnd)
    try:
        first = plan_first_stage(rnd.kind, rnd.stratified, members, rates)
    except ValidationFailed as exc:
        rep.differences.append(f"无法重新计算第 1 阶段的样本量：{message_zh(exc.detail)}")
        return
    rep.check(first == plans[0], f"第 1 阶段样本量 {first.size}", f"第 1 阶段：重新计算为 {_plan(first)}，保存的是 {_plan(plans[0])}")
    if frozen_payload is not None:
        rep.check(frozen_payload.get("sample_size") == plans[0].size
                  and frozen_payload.get("allocation") == dict(plans[0].allocation),
                  "审计日志中的第 1 阶段样本量", "冻结时日志记录的第 1 阶段样本量或分配与保存的不同")
    for previous, plan in itertools.pairwise(plans):
        try:
            again = plan_expansion(rnd.kind, rnd.stratified, members, rates, previous, plan.expected_deviations)
        except (ValidationFailed, InvalidState) as exc:
            rep.differences.append(f"无法重新计算第 {plan.stage} 阶段的样本量：{message_zh(exc.detail)}")
            continue
        rep.check(again == plan, f"第 {plan.stage} 阶段样本量 {again.size}",
                  f"第 {plan.stage} 阶段：重新计算为 {_plan(again)}，保存的是 {_plan(plan)}")
    logged_sizes = [e[1].payload.get("size") for e in expansions]
    rep.check(logged_sizes == [p.size for p in plans[1:]], "审计日志中的扩大抽样",
              f"扩大抽样：日志记录的样本量为 {_values(logged_sizes)}，保存的是 {_values([p.size for p in plans[1:]])}")
