"""Two texts kept in clear again, now that the audit log holds only their SHA-256:

* recovery.waiver_confirm_note: the second county reviewer's words confirming a recovery's waiver (who and when are
  the recovery's `closed_by`, `closed_at`).
* payment_batch_signoff: each county sign-off decision on a batch (refused or given), who, when and the opinion. The
  batch's `signoff_opinion` keeps the latest opinion only.

The upgrade fills both from what is still known, and refuses nothing. The audit log names every decision (its
`payment_batch.signoff_refused` and `payment_batch.county_signoff` entries: who, when) and every confirmed waiver
(`recovery.waived`); an entry written before the log kept digests holds the text itself (`opinion`, `confirmation`),
a later one its SHA-256 only, and such an opinion is taken from the batch when it is the batch's latest
(`signoff_opinion`, same digest); any other stays NULL, kept nowhere in clear. A batch whose columns name a decision
the log does not (none in practice) gets its latest refusal and its sign-off from those columns, the later one with
the batch's opinion.

The downgrade is refused while a confirming note or an opinion is on record that would be kept nowhere in clear
after it (neither in the batch's `signoff_opinion` nor in an entry of the log); otherwise it drops both.

Revision ID: 0059
Revises: 0058
Create Date: 2026-12-06
"""
import hashlib
import json
import os

import sqlalchemy as sa
from alembic import op

revision = "0059"
down_revision = "0058"
branch_labels = None
depends_on = None
TABLE = "payment_batch_signoff"

SIGNOFF_ACTIONS = {"payment_batch.signoff_refused": "refused", "payment_batch.county_signoff": "given"}
WAIVED = "recovery.waived"
DECIDED = "signoff_refused_by IS NOT NULL OR signed_off_by IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("recovery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiver_confirm_note", sa.Text(), nullable=True))
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.CheckConstraint("decision IN ('given', 'refused')", name=op.f(f"ck_{TABLE}_known_decision")),
        sa.ForeignKeyConstraint(["batch_id"], ["payment_batch.id"], name=op.f(f"fk_{TABLE}_batch_id_payment_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_batch_id"), TABLE, ["batch_id"], unique=False)
    bind = op.get_bind()
    for recovery_id, note in _logged_confirmations(bind).items():
        bind.execute(sa.text("UPDATE recovery SET waiver_confirm_note = :note WHERE id = :id"),
                     {"note": note, "id": recovery_id})
    rows = _decisions(bind)
    if rows:
        bind.execute(sa.text(f"INSERT INTO {TABLE} (id, batch_id, decision, decided_by, decided_at, opinion) "
                             "VALUES (:id, :batch_id, :decision, :decided_by, :decided_at, :opinion)"), rows)


def _payload(entry: object) -> dict:
    """The payload of an entry's bytes (canonical JSON); {} for anything else."""
    try:
        obj = json.loads(bytes(entry).decode("utf-8"))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return {}
    payload = obj.get("payload") if isinstance(obj, dict) else None
    return payload if isinstance(payload, dict) else {}


def _logged_confirmations(bind: sa.engine.Connection) -> dict[str, str]:
    """The confirming words of the waived recoveries' waivers that their entry holds in clear (before digests)."""
    out = {}
    for subject, entry in bind.execute(sa.text(
            "SELECT subject, entry FROM audit_entry WHERE action = :action AND subject IN "
            "(SELECT id FROM recovery WHERE status = 'waived') ORDER BY idx"), {"action": WAIVED}):
        said = _payload(entry).get("confirmation")
        if isinstance(said, str) and said:
            out[subject] = said
    return out


def _logged_signoffs(bind: sa.engine.Connection) -> list[tuple[str, str, str, object, object, object]]:
    """(batch, decision, who, when, the opinion in clear or None, its SHA-256 or None) of every sign-off decision the
    log names, oldest first."""
    out = []
    for subject, action, actor, time, entry in bind.execute(sa.text(
            "SELECT subject, action, actor, time, entry FROM audit_entry WHERE action IN (:refused, :given) "
            f"AND subject IN (SELECT id FROM payment_batch WHERE {DECIDED}) ORDER BY idx"),
            {"refused": "payment_batch.signoff_refused", "given": "payment_batch.county_signoff"}):
        payload = _payload(entry)
        out.append((subject, SIGNOFF_ACTIONS[action], actor, time, payload.get("opinion"),
                    payload.get("opinion_sha256")))
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _decisions(bind: sa.engine.Connection) -> list[dict[str, object]]:
    """The history rows: each decision the log names; a batch the log names none of, from its own columns."""
    batches = {r[0]: r[1:] for r in bind.execute(sa.text(
        "SELECT id, signoff_opinion, signoff_refused_by, signoff_refused_at, signed_off_by, signed_off_at "
        f"FROM payment_batch WHERE {DECIDED}"))}
    rows: list[dict[str, object]] = []

    def row(batch_id: str, how: str, by: object, at: object, opinion: object) -> None:
        rows.append({"id": "pbs_" + os.urandom(16).hex(), "batch_id": batch_id, "decision": how, "decided_by": by,
                     "decided_at": at, "opinion": opinion if isinstance(opinion, str) and opinion else None})

    logged = set()
    for batch_id, how, by, at, said, digest in _logged_signoffs(bind):
        latest = batches[batch_id][0]
        if said is None and latest and digest == _digest(latest):
            said = latest  # a digest only: the batch's latest opinion is its text
        row(batch_id, how, by, at, said)
        logged.add(batch_id)
    for batch_id, (opinion, refused_by, refused_at, given_by, given_at) in batches.items():
        if batch_id in logged:
            continue
        known = sorted(((at, how == "given", how, by) for how, by, at in (
            ("refused", refused_by, refused_at), ("given", given_by, given_at)) if by is not None and at is not None),
            key=lambda d: d[:2])  # a sign-off follows the refusal it answered
        for n, (at, _, how, by) in enumerate(known):
            row(batch_id, how, by, at, opinion if n == len(known) - 1 else None)
    return rows


def downgrade() -> None:
    bind = op.get_bind()
    logged = _logged_confirmations(bind)
    notes = bind.execute(sa.text("SELECT id, waiver_confirm_note FROM recovery WHERE waiver_confirm_note IS NOT NULL"))
    if any(logged.get(recovery_id) != note for recovery_id, note in notes):
        raise RuntimeError("有追回核销的确认意见只保存在追回记录中（须保留）：不能降级")
    kept: dict[str, set[str]] = {}
    for batch_id, _, _, _, said, _ in _logged_signoffs(bind):
        if isinstance(said, str):
            kept.setdefault(batch_id, set()).add(said)
    for batch_id, opinion in bind.execute(sa.text(f"SELECT id, signoff_opinion FROM payment_batch WHERE {DECIDED}")):
        if opinion:
            kept.setdefault(batch_id, set()).add(opinion)
    opinions = bind.execute(sa.text(f"SELECT batch_id, opinion FROM {TABLE} WHERE opinion IS NOT NULL"))
    if any(opinion not in kept.get(batch_id, set()) for batch_id, opinion in opinions):
        raise RuntimeError("有支付批次此前的县级签批意见只保存在签批记录中（批次只保留最近一条，须保留）：不能降级")
    op.drop_index(op.f(f"ix_{TABLE}_batch_id"), table_name=TABLE)
    op.drop_table(TABLE)
    with op.batch_alter_table("recovery", schema=None) as batch_op:
        batch_op.drop_column("waiver_confirm_note")
