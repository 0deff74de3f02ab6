"""What `verifier init` does after the schema exists: the log's head, the signing key's record, the contracts."""

from __future__ import annotations

from collections.abc import Iterable

from .audit import checkpoints
from .audit import log as audit
from .cases.numbers import fill_id_tails
from .context import Context
from .contract import Contract
from .store import contracts as contract_store


def bootstrap(ctx: Context, contracts: Iterable[Contract]) -> int:
    """Idempotent. Returns how many contracts were newly added."""
    added = 0
    with ctx.db.begin() as session:
        audit.ensure_head(session)
        if ctx.signer is not None:
            ctx.signer.register(session, clock=ctx.clock)
        for contract in contracts:
            added += contract_store.add_contract(session, contract, actor="system", role="admin", clock=ctx.clock)
    fill_id_tails(ctx.db, ctx.vault)  # members stored before the tail index existed (migration 0016 has no key)
    if ctx.signer is not None:
        checkpoints.issue_checkpoint(ctx.db, ctx.signer)  # even an empty log has a signed checkpoint
    return added
