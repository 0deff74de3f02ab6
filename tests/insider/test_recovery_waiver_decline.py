"""A request to waive a recovery (追回核销) was answered only by a confirmation: a second county reviewer who
disagreed could do nothing, and the request waited for ever. Another county reviewer may now decline it, with a
reason, under confirming's bars (not the asker, not an account linked to the asker's by a password, not a relative
of the household): the request is cleared, the recovery stays open to be repaid, and the asker may ask again. A
stale or second answer is 409, in Chinese; the reason enters the log only as its SHA-256."""

from __future__ import annotations

from deviation_helpers import both_found_ineligible, declare_sibling, held_and_paid_in_a_round, recovery_of
from insider_kit import COUNTY, entries_but_refusals, refusals_of
from sqlalchemy import select

from verifier.audit.canonical import decode_entry
from verifier.audit.log import text_digest
from verifier.audit.models import AuditEntry
from verifier.payments import recoveries, recovery_reading
from verifier.store.tables import User


def _declined_entries(ctx):  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        entries = [decode_entry(e) for e in session.scalars(select(AuditEntry.entry).order_by(AuditEntry.idx))]
    return [e for e in entries if e.action == recoveries.WAIVER_DECLINED]


def _requests(ctx, recovery_id):  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return recovery_reading.waiver_requests_of(session, recovery_id)


def test_attack_the_asker_or_a_linked_account_or_a_relative_declines_and_another_reviewer_does(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    sampled = held_and_paid_in_a_round(ctx, client, users)  # users reviewer, insurer, claims1, fin1
    both_found_ineligible(ctx, client, sampled, "2666.67")
    recovery = recovery_of(ctx, sampled.paid)
    for name in ("rev_pal", "rev_kin", "rev2"):
        users.add(name, "county_reviewer", counties=(COUNTY,))
    with ctx.db.begin() as session:  # the reviewer knows a password of rev_pal's account
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["reviewer"]
    declare_sibling(ctx, client, users.headers("rev_kin"), sampled.paid)
    decline = f"/api/recoveries/{recovery.id}/waiver/decline"

    r = client.post(decline, headers=users.headers("rev2"), json={"reason": "有能力偿还"})
    assert r.status_code == 409 and "核销申请" in r.json()["detail"], r.text  # nothing asked yet
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=sampled.reviewer, json={"reason": "农户确无能力退还"})
    assert r.status_code == 200 and r.json()["waiver_requested_by"] == users.ids["reviewer"], r.text

    before = entries_but_refusals(ctx)
    # the asker answers their own request: neither decline nor confirm
    r = client.post(decline, headers=sampled.reviewer, json={"reason": "撤回"})
    assert r.status_code == 403 and "由您申请" in r.json()["detail"], r.text
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=sampled.reviewer, json={"reason": "同意"})
    assert r.status_code == 403 and "由您申请" in r.json()["detail"], r.text
    # the asker's second account, and a relative of the household
    r = client.post(decline, headers=users.headers("rev_pal"), json={"reason": "不同意"})
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    r = client.post(decline, headers=users.headers("rev_kin"), json={"reason": "不同意"})
    assert r.status_code == 422 and "回避" in r.json()["detail"], r.text
    r = client.post(decline, headers=users.headers("rev2"), json={"reason": "  "})
    assert r.status_code == 422, r.text
    assert entries_but_refusals(ctx) == before
    kept = recovery_of(ctx, sampled.paid)
    assert (kept.status, kept.waiver_requested_by) == ("open", users.ids["reviewer"])
    assert [k["step"] for k in refusals_of(ctx, users.ids["rev_pal"])] == ["recovery_waiver"]
    assert [k["step"] for k in refusals_of(ctx, users.ids["rev_kin"])] == ["recovery_waiver"]

    # another county reviewer declines: the recovery stays open, the request cleared, the reason kept on the row
    r = client.post(decline, headers=users.headers("rev2"), json={"reason": "农户有稳定收入，具备偿还能力"})
    assert r.status_code == 200, r.text
    kept = recovery_of(ctx, sampled.paid)
    assert (kept.status, kept.waiver_requested_by, kept.waiver_requested_at) == ("open", None, None)
    assert kept.waiver_confirm_note is None and kept.closed_by is None  # that column is the confirming words'
    (first,) = _requests(ctx, recovery.id)  # the request's own row: who declined, when, why
    assert (first["asked_by"], first["reason"], first["outcome"], first["ended_by"], first["note"]) == (
        users.ids["reviewer"], "农户确无能力退还", "declined", users.ids["rev2"], "农户有稳定收入，具备偿还能力")
    assert first["ended_at"] == ctx.clock.now().isoformat()
    (entry,) = _declined_entries(ctx)
    assert entry.actor == users.ids["rev2"] and entry.payload["requested_by"] == users.ids["reviewer"]
    assert entry.payload["reason_sha256"] == text_digest("农户有稳定收入，具备偿还能力")
    assert "农户有稳定收入" not in str(entry.payload)
    # a second answer: 409, in Chinese, nothing written
    before = entries_but_refusals(ctx)
    r = client.post(decline, headers=users.headers("rev2"), json={"reason": "再次驳回"})
    assert r.status_code == 409 and "已被处理" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before

    # still to be repaid
    r = client.post(f"/api/recoveries/{recovery.id}/repayments", headers=users.headers("fin1"),
                    json={"amount": "100.00", "paid_on": ctx.clock.today().isoformat(), "reference": "XJ0009"})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/recovery-repayments/{r.json()['id']}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    # and the asker may ask again later; another confirms this time
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=sampled.reviewer, json={"reason": "户主重病"})
    assert r.status_code == 200 and r.json()["status"] == "open", r.text
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=users.headers("rev2"), json={"reason": "同意核销"})
    assert r.status_code == 200 and r.json()["status"] == "waived", r.text
    r = client.post(decline, headers=users.headers("rev2"), json={"reason": "晚了"})
    assert r.status_code == 409 and "已核销" in r.json()["detail"], r.text
    # both requests kept, each with its end: the later confirmation overwrote nothing of the decline
    assert [(w["reason"], w["outcome"], w["ended_by"], w["note"]) for w in _requests(ctx, recovery.id)] == [
        ("农户确无能力退还", "declined", users.ids["rev2"], "农户有稳定收入，具备偿还能力"),
        ("户主重病", "confirmed", users.ids["rev2"], "同意核销")]



def test_a_request_still_waiting_when_the_recovery_is_repaid_in_full_ends_withdrawn(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Repaid in full while a request waits: the request's row ends (withdrawn, by whoever confirmed the last
    repayment), so no row says a request waits on a recovery that is closed."""
    from verifier.domain.money import format_yuan

    sampled = held_and_paid_in_a_round(ctx, client, users)
    both_found_ineligible(ctx, client, sampled, "2666.67")
    recovery = recovery_of(ctx, sampled.paid)
    users.add("rev2", "county_reviewer", counties=(COUNTY,))
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=sampled.reviewer, json={"reason": "农户确无能力退还"})
    assert r.status_code == 200
    assert [w["outcome"] for w in _requests(ctx, recovery.id)] == [None]
    r = client.post(f"/api/recoveries/{recovery.id}/repayments", headers=users.headers("fin1"),
                    json={"amount": format_yuan(recovery.amount), "paid_on": ctx.clock.today().isoformat(),
                          "reference": "XJ0100"})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/recovery-repayments/{r.json()['id']}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200 and recovery_of(ctx, sampled.paid).status == "repaid", r.text
    (request,) = _requests(ctx, recovery.id)
    assert (request["outcome"], request["ended_by"], request["note"]) == ("withdrawn", users.ids["rev2"], None)
