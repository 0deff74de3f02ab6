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
from ..audit.canonical import CanonicalError, decode_entry
from ..audit.models import AuditEntry
from ..audit.notes import NoteError, VerifierKey, open_checkpoint
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
        rep.differences.append("the round is still open: its population is not frozen, there is no draw to replay")
        return rep
    members = _members(session, rnd.id)
    digest = sampling.population_digest([m.case_id for m in members]).hex()
    rep.check(digest == rnd.population_digest and len(members) == rnd.population_size,
              f"population digest {digest} of {len(members)} cases",
              f"population digest: recomputed {digest} over {len(members)} cases, stored {rnd.population_digest} "
              f"over {rnd.population_size}")
    by_action: dict[str, list[Entry]] = {}
    for e in _entries(session, rnd.id):
        if e[1] is None:
            rep.differences.append(f"audit entry {e[0]} of the round is not canonical")
        else:
            by_action.setdefault(e[1].action, []).append(e)
    frozen = by_action.get(FROZEN, [])
    frozen_payload = frozen[0][1].payload if len(frozen) == 1 else None
    if rep.check(len(frozen) == 1 and frozen[0][0] == rnd.freeze_index, f"freezing entry {rnd.freeze_index}",
                 f"freezing entry: expected one {FROZEN} entry at index {rnd.freeze_index}, "
                 f"found {[e[0] for e in frozen]}"):
        for name, stored in (("population_digest", rnd.population_digest), ("population_size", rnd.population_size),
                             *((name, getattr(rnd, name)) for name in RATE_FIELDS)):
            rep.check(frozen_payload.get(name) == stored, f"logged {name}",
                      f"{name}: logged {frozen_payload.get(name)!r}, stored {stored!r}")
        _check_checkpoint(session, rnd, frozen[0], keys, rep)
    plans = [_plan_of(s) for s in _stages(session, rnd.id)]
    _check_plans(rnd, members, plans, frozen_payload, by_action.get(EXPANDED, []), rep)
    if rnd.seed is None:
        rep.differences.append("the round has not been drawn yet: there is no draw to replay")
        return rep
    if rnd.checkpoint_root is None or rnd.population_digest is None:
        rep.differences.append("the round was drawn without a recorded checkpoint root")
        return rep
    drawn = by_action.get(DRAWN, [])
    drawn_payload = drawn[0][1].payload if len(drawn) == 1 else None
    rep.check(len(drawn) == 1, "draw entry", f"draw entries: expected one, found {len(drawn)}")
    # A round of the old single-party flow has randomness and nothing of commit-reveal; one frozen with commitments
    # is never replayed by the old formula, so rewriting it into an old-style round cannot pass.
    committed = bool((frozen_payload or {}).get("commitments") or by_action.get(COMMITMENT) or parties(session, rnd.id))
    if rnd.randomness is not None and committed:
        rep.differences.append("the round was frozen with commitments but carries single-party randomness")
        return rep
    if rnd.randomness is not None:
        seed = sampling.derive_seed(bytes.fromhex(rnd.population_digest), bytes.fromhex(rnd.checkpoint_root),
                                    bytes.fromhex(rnd.randomness))
        if drawn_payload is not None:
            rep.check(drawn_payload.get("randomness") == rnd.randomness, "logged randomness",
                      "the logged randomness differs from the stored one")
    else:
        seed = _check_commit_reveal(session, rnd, frozen_payload, drawn_payload, by_action, rep)
        if seed is None:
            return rep
    rep.check(seed.hex() == rnd.seed, f"seed {seed.hex()}", f"seed: recomputed {seed.hex()}, stored {rnd.seed}")
    if drawn_payload is not None:
        rep.check(drawn_payload.get("seed") == seed.hex(), "logged seed",
                  f"seed: recomputed {seed.hex()}, logged {drawn_payload.get('seed')}")
    try:
        picks = compute_selection(rnd.kind, rnd.stratified, seed, members, plans)
    except ValidationFailed as exc:
        rep.differences.append(f"the draw cannot be recomputed: {exc.detail}")
        return rep
    stored = [(i.case_id, i.stage, i.stratum, i.position, i.units) for i in _items(session, rnd.id)]
    again = [(p.case_id, p.stage, p.stratum, p.position, p.units) for p in picks]
    stored_set, again_set = set(stored), set(again)
    if not rep.check(stored_set == again_set, f"draw of {len(again)} cases over {len(plans)} stage(s)",
                     "draw differs"):
        for case_id, *rest in sorted(again_set - stored_set)[:10]:
            rep.differences.append(f"  recomputed but not stored: {case_id} (stage, stratum, position, units {rest})")
        for case_id, *rest in sorted(stored_set - again_set)[:10]:
            rep.differences.append(f"  stored but not recomputed: {case_id} (stage, stratum, position, units {rest})")
    logged = list(drawn_payload.get("case_ids", [])) if drawn_payload is not None else []
    for _, entry, _ in by_action.get(EXPANDED, []):
        logged += entry.payload.get("case_ids", [])
    rep.check(logged == [p.case_id for p in picks], "logged sample", "the sample logged in the audit log differs "
                                                                    "from the recomputed one")
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
            rep.differences.append(f"{party} commitment: none is recorded")
            continue
        rep.check(logged_commitments.get(party) == [row.commitment], f"{party} commitment logged when made",
                  f"{party} commitment: stored {row.commitment}, logged when made {logged_commitments.get(party)}")
        rep.check(frozen_commitments.get(party) == row.commitment, f"{party} commitment logged at the freeze",
                  f"{party} commitment: stored {row.commitment}, logged at the freeze {frozen_commitments.get(party)}")
        if row.secret is None:
            rep.check(row.passed_over_at is not None and party in passed, f"{party} passed over (logged)",
                      f"{party} secret: neither revealed nor passed over in the log")
            rep.check(logged_secrets.get(party) is None, f"{party} withheld in the draw entry",
                      f"{party} secret: none stored, logged {logged_secrets.get(party)}")
            continue
        rep.check(party not in passed, f"{party} not passed over",
                  f"{party}: the log records a pass-over, yet a secret is stored")
        try:
            secret = bytes.fromhex(row.secret)
        except ValueError:
            rep.differences.append(f"{party} secret: stored value is not hex")
            return None
        rep.check(sampling.reveal_matches(secret, bytes.fromhex(row.commitment)),
                  f"{party} secret hashes to its commitment",
                  f"{party} secret: SHA-256 {sampling.commitment_of(secret).hex()} differs from the commitment "
                  f"{row.commitment}")
        rep.check(logged_secrets.get(party) == row.secret, f"{party} secret logged with the draw",
                  f"{party} secret: stored {row.secret}, logged with the draw {logged_secrets.get(party)}")
    if drawn_payload is not None:
        rep.check(drawn_payload.get("public_value") == rnd.public_value, "logged public value",
                  f"public value: stored {rnd.public_value!r}, logged {drawn_payload.get('public_value')!r}")
    if rnd.public_value_description is not None and rnd.public_value is None:
        rep.differences.append("public value: the round named one, yet none is recorded")
    secrets = {p: bytes.fromhex(r.secret) if r.secret else None for p, r in by_party.items()}
    try:
        return sampling.round_seed(bytes.fromhex(rnd.population_digest or ""), bytes.fromhex(rnd.checkpoint_root or ""),
                                   secrets.get("county"), secrets.get("insurer"), rnd.public_value)
    except (ValueError, ValidationFailed) as exc:
        rep.differences.append(f"the seed cannot be recomputed: {getattr(exc, 'detail', exc)}")
        return None


def _check_checkpoint(session: Session, rnd: SamplingRound, frozen: tuple[int, Any, bytes],
                      keys: Sequence[VerifierKey], rep: ReplayReport) -> None:
    if rnd.checkpoint_note is None or rnd.checkpoint_size is None or rnd.checkpoint_root is None:
        rep.differences.append("the round has no recorded checkpoint")
        return
    trusted = list(keys) or audit_checkpoints.known_keys(session)
    try:
        checkpoint, _ = open_checkpoint(rnd.checkpoint_note, trusted)
    except NoteError as exc:
        rep.differences.append(f"checkpoint signature: {exc}")
        return
    rep.confirmed.append(f"checkpoint signature ({checkpoint.origin}, size {checkpoint.size})")
    if not rep.check(checkpoint.size == rnd.checkpoint_size and checkpoint.root.hex() == rnd.checkpoint_root,
                     "checkpoint size and root", "the signed checkpoint's size or root differs from the round's"):
        return
    index, _, leaf = frozen
    try:
        proof = audit.inclusion_proof(session, index, checkpoint.size)
        merkle.verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root)
    except (ValueError, audit.LogCorrupt) as exc:
        rep.differences.append(f"freezing entry {index} is not included in the checkpoint of size "
                               f"{checkpoint.size}: {exc}")
        return
    rep.confirmed.append(f"freezing entry {index} included in the checkpoint (proof of {len(proof)} hashes)")


def _check_plans(rnd: SamplingRound, members: Sequence[Member], plans: Sequence[Plan], frozen_payload: Any,
                 expansions: Sequence[tuple[int, Any, bytes]], rep: ReplayReport) -> None:
    if not plans:
        rep.differences.append("the round has no stages")
        return
    rates = _rates(rnd)
    try:
        first = plan_first_stage(rnd.kind, rnd.stratified, members, rates)
    except ValidationFailed as exc:
        rep.differences.append(f"stage 1 size cannot be recomputed: {exc.detail}")
        return
    rep.check(first == plans[0], f"stage 1 size {first.size}", f"stage 1: recomputed {first}, stored {plans[0]}")
    if frozen_payload is not None:
        rep.check(frozen_payload.get("sample_size") == plans[0].size
                  and frozen_payload.get("allocation") == dict(plans[0].allocation),
                  "logged stage 1 size", "the stage 1 size or allocation logged at freezing differs from the stored one")
    for previous, plan in itertools.pairwise(plans):
        try:
            again = plan_expansion(rnd.kind, rnd.stratified, members, rates, previous, plan.expected_deviations)
        except (ValidationFailed, InvalidState) as exc:
            rep.differences.append(f"stage {plan.stage} size cannot be recomputed: {exc.detail}")
            continue
        rep.check(again == plan, f"stage {plan.stage} size {again.size}",
                  f"stage {plan.stage}: recomputed {again}, stored {plan}")
    logged_sizes = [e[1].payload.get("size") for e in expansions]
    rep.check(logged_sizes == [p.size for p in plans[1:]], "logged expansions",
              f"expansions logged {logged_sizes}, stored {[p.size for p in plans[1:]]}")
