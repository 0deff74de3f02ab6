"""Each request to waive a recovery kept with its end (recovery_waiver_request): who asked, when and why, and how it
ended (confirmed, declined, withdrawn), by whom, when, with the words said. Until now a declined request's reason was
kept in `recovery.waiver_confirm_note` (the column of the confirming words), overwritten by the next request's
answer; who declined and when were in the audit log only. From now on the column holds confirming words only.

The upgrade fills the table from what is still known, and refuses nothing. The log names every request
(`recovery.waiver_requested`: who, when), decline (`recovery.waiver_declined`: who, when, whose request) and
confirmation (`recovery.waived`), and a withdrawal (`recovery.withdrawn`) ending a request that waited; an entry holds
a text itself (`reason`, `confirmation`) or its SHA-256, and a digest is matched to the recovery's columns: the
latest request's `waive_reason`, the confirming `waiver_confirm_note`, and an open recovery's `waiver_confirm_note`
(the last decline's reason, moved to its row and cleared from the column). A text kept nowhere in clear stays NULL.
A request the columns name and the log does not gets its row from the columns.

The downgrade is refused while a text would be kept nowhere in clear after it (neither in an entry of the log nor in
the recovery's columns: a request's reason other than its `waive_reason`, a confirmation other than its
`waiver_confirm_note`, a decline's reason other than an open recovery's last); otherwise it puts the last decline's reason back in `waiver_confirm_note` and drops the table.

Revision ID: 0060
Revises: 0059
Create Date: 2026-12-06
"""
import hashlib
import json
import os

import sqlalchemy as sa
from alembic import op

revision = "0060"
down_revision = "0059"
branch_labels = None
depends_on = None
TABLE = "recovery_waiver_request"

REQUESTED, DECLINED, WAIVED, WITHDRAWN = ("recovery.waiver_requested", "recovery.waiver_declined", "recovery.waived",
                                          "recovery.withdrawn")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("recovery_id", sa.String(length=40), nullable=False),
        sa.Column("asked_by", sa.String(length=40), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("ended_by", sa.String(length=40), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('confirmed', 'declined', 'withdrawn')",
                           name=op.f(f"ck_{TABLE}_known_outcome")),
        sa.ForeignKeyConstraint(["recovery_id"], ["recovery.id"], name=op.f(f"fk_{TABLE}_recovery_id_recovery")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_recovery_id"), TABLE, ["recovery_id"], unique=False)
    bind = op.get_bind()
    rows, moved = _requests(bind)
    if rows:
        bind.execute(sa.text(f"INSERT INTO {TABLE} (id, recovery_id, asked_by, asked_at, reason, outcome, ended_by, "
                             "ended_at, note) VALUES (:id, :recovery_id, :asked_by, :asked_at, :reason, :outcome, "
                             ":ended_by, :ended_at, :note)"), rows)
    for recovery_id in moved:  # a decline's reason, now on its row: the column keeps confirming words only
        bind.execute(sa.text("UPDATE recovery SET waiver_confirm_note = NULL WHERE id = :id"), {"id": recovery_id})


def _payload(entry: object) -> dict:
    """The payload of an entry's bytes (canonical JSON); {} for anything else."""
    try:
        obj = json.loads(bytes(entry).decode("utf-8"))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return {}
    payload = obj.get("payload") if isinstance(obj, dict) else None
    return payload if isinstance(payload, dict) else {}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text(payload: dict, clear: str, digest: str, known: object) -> object:
    """The text an entry names: in clear, or by its SHA-256 when that is `known`'s; else None."""
    said = payload.get(clear)
    if isinstance(said, str) and said:
        return said
    if isinstance(known, str) and known and payload.get(digest) == _digest(known):
        return known
    return None


def _requests(bind: sa.engine.Connection) -> tuple[list[dict[str, object]], list[str]]:
    """The history rows of every recovery the log or its columns name a request of, and the open recoveries whose
    `waiver_confirm_note` (a decline's reason) went to a row."""
    recs = {r[0]: r[1:] for r in bind.execute(sa.text(
        "SELECT id, status, waive_reason, waiver_requested_by, waiver_requested_at, waiver_confirm_note, closed_by, "
        "closed_at FROM recovery"))}
    rows: list[dict[str, object]] = []
    moved: list[str] = []
    waiting: dict[str, dict[str, object]] = {}
    last_decline: dict[str, dict[str, object]] = {}

    def row(recovery_id: str, by: object, at: object, reason: object) -> dict[str, object]:
        new = {"id": "rwr_" + os.urandom(16).hex(), "recovery_id": recovery_id, "asked_by": by, "asked_at": at,
               "reason": reason, "outcome": None, "ended_by": None, "ended_at": None, "note": None}
        rows.append(new)
        return new

    def end(r: dict[str, object], outcome: str, by: object, at: object, note: object) -> None:
        r.update(outcome=outcome, ended_by=by, ended_at=at, note=note)

    for subject, action, actor, time, entry in bind.execute(sa.text(
            "SELECT subject, action, actor, time, entry FROM audit_entry WHERE action IN (:r, :d, :w, :x) "
            "AND subject IN (SELECT id FROM recovery) ORDER BY idx"),
            {"r": REQUESTED, "d": DECLINED, "w": WAIVED, "x": WITHDRAWN}):
        status, reason, _, _, note, _, _ = recs[subject]
        payload = _payload(entry)
        if action == REQUESTED:
            waiting[subject] = row(subject, actor, time, _text(payload, "reason", "reason_sha256", reason))
            continue
        r = waiting.pop(subject, None)
        if action == WITHDRAWN:
            if r is not None:
                end(r, "withdrawn", actor, time, None)
            continue
        if r is None and isinstance(payload.get("requested_by"), str):  # the request the log does not name
            r = row(subject, payload["requested_by"], None, None)
        if r is None:
            continue
        if action == DECLINED:
            end(r, "declined", actor, time, _text(payload, "reason", "reason_sha256", note if status == "open" else None))
            last_decline[subject] = r
        else:
            end(r, "confirmed", actor, time, _text(payload, "confirmation", "confirmation_sha256", note))
    for subject, r in last_decline.items():
        status, _, _, _, note, _, _ = recs[subject]
        if status == "open" and note and r["note"] in (None, note):
            r["note"] = note  # the column held the last answer of an open recovery: this decline's reason
            moved.append(subject)
    for recovery_id, (status, reason, asker, asked_at, note, closed_by, closed_at) in recs.items():
        if asker is None:
            continue
        waiting.pop(recovery_id, None)
        r = next((x for x in reversed(rows) if x["recovery_id"] == recovery_id), None)
        if r is None or r["outcome"] == "declined":  # a request the log does not name (a decline clears the columns)
            r = row(recovery_id, asker, asked_at, reason)
            if status == "waived":
                end(r, "confirmed", closed_by, closed_at, note)
        if r["outcome"] is None and status in ("repaid", "withdrawn"):
            end(r, "withdrawn", closed_by, closed_at, None)
    for r in waiting.values():  # asked, then the recovery ended otherwise (nothing the log names ended it)
        status, _, _, _, _, closed_by, closed_at = recs[r["recovery_id"]]  # type: ignore[index]
        if status != "open":
            end(r, "withdrawn", closed_by, closed_at, None)
    return rows, moved


def downgrade() -> None:
    bind = op.get_bind()
    recs = {r[0]: r[1:] for r in bind.execute(sa.text(
        "SELECT id, status, waive_reason, waiver_confirm_note FROM recovery"))}
    history: dict[str, list[tuple[object, object, object, object]]] = {}
    for recovery_id, reason, outcome, note, asked_at, ended_at in bind.execute(sa.text(
            f"SELECT recovery_id, reason, outcome, note, asked_at, ended_at FROM {TABLE}")):
        history.setdefault(recovery_id, []).append((reason, outcome, note, (ended_at is None, ended_at, asked_at)))
    logged: dict[str, set[str]] = {}  # the texts the log holds in clear (written before it kept digests)
    for subject, entry in bind.execute(sa.text(
            "SELECT subject, entry FROM audit_entry WHERE action IN (:r, :d, :w) ORDER BY idx"),
            {"r": REQUESTED, "d": DECLINED, "w": WAIVED}):
        payload = _payload(entry)
        logged.setdefault(subject, set()).update(
            said for said in (payload.get("reason"), payload.get("confirmation")) if isinstance(said, str))
    back: dict[str, str] = {}
    for recovery_id, requests in history.items():
        status, waive_reason, confirm_note = recs[recovery_id]
        kept = logged.get(recovery_id, set())
        declines = sorted(((when, note) for _, outcome, note, when in requests if outcome == "declined" and note),
                          key=lambda d: tuple(str(w) for w in d[0]))
        if status == "open" and declines and not confirm_note:
            back[recovery_id] = declines[-1][1]  # type: ignore[assignment]
        for reason, outcome, note, _ in requests:
            if reason and reason != waive_reason and reason not in kept:
                raise RuntimeError("有核销申请的原因只保存在核销申请记录中（追回只保留最近一次申请的原因）：不能降级")
            if note and outcome == "confirmed" and note != confirm_note and note not in kept:
                raise RuntimeError("有核销的确认意见只保存在核销申请记录中：不能降级")
            if note and outcome == "declined" and note != back.get(recovery_id) and note not in kept:
                raise RuntimeError("有核销申请的驳回原因只保存在核销申请记录中（追回只能保留最近一次驳回原因）：不能降级")
    for recovery_id, note in back.items():
        bind.execute(sa.text("UPDATE recovery SET waiver_confirm_note = :note WHERE id = :id"),
                     {"note": note, "id": recovery_id})
    op.drop_index(op.f(f"ix_{TABLE}_recovery_id"), table_name=TABLE)
    op.drop_table(TABLE)
