"""The recovery page: another county reviewer declines a request to waive with a reason (the form beside the
confirmation); an answer from a page that showed a request no longer waiting is 409, in Chinese."""

from __future__ import annotations

from deviation_helpers import both_found_ineligible, held_and_paid_in_a_round, recovery_of
from pagekit import Pages


def test_the_recovery_page_declines_and_a_stale_answer_is_409(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    sampled = held_and_paid_in_a_round(ctx, client, users)
    both_found_ineligible(ctx, client, sampled, "2666.67")
    recovery = recovery_of(ctx, sampled.paid)
    pages = Pages(client, users)
    pages.as_("rev2", "county_reviewer")
    pages.as_("rev3", "county_reviewer")
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=sampled.reviewer, json={"reason": "农户确无能力退还"})
    assert r.status_code == 200
    asked_at = r.json()["waiver_requested_at"]

    pages.login("reviewer")  # the asker: no decline form
    assert 'id="decline-waiver-form"' not in pages.get(f"/recoveries/{recovery.id}").text
    pages.login("rev2")
    text = pages.get(f"/recoveries/{recovery.id}").text
    form = text.split('id="decline-waiver-form"')[1].split("</form>")[0]
    assert "驳回原因" in form and "驳回核销申请" in form and f'name="asked_at" value="{asked_at}"' in form
    r = pages.post(f"/recoveries/{recovery.id}/waiver/decline", {"decline_reason": "", "asked_at": asked_at})
    assert r.status_code == 422 and "请填写驳回核销申请的原因" in r.text
    r = pages.post(f"/recoveries/{recovery.id}/waiver/decline", {"decline_reason": "具备偿还能力", "asked_at": asked_at})
    assert r.status_code == 303 and "done=recovery_waiver_declined" in r.headers["location"]
    shown = pages.get(r.headers["location"]).text
    assert "核销申请已驳回" in shown and "驳回原因：具备偿还能力" in shown
    assert recovery_of(ctx, sampled.paid).status == "open"

    # rev3's page still showed the request: confirming it now is 409, not a new request by rev3
    pages.login("rev3")
    r = pages.post(f"/recoveries/{recovery.id}/waive", {"reason": "同意", "step": "confirm", "confirm": "yes",
                                                        "asked_at": asked_at})
    assert r.status_code == 409 and "已被处理" in r.text
    r = pages.post(f"/recoveries/{recovery.id}/waiver/decline", {"decline_reason": "不同意", "asked_at": asked_at})
    assert r.status_code == 409 and "已被处理" in r.text
    kept = recovery_of(ctx, sampled.paid)
    assert (kept.status, kept.waiver_requested_by) == ("open", None)
    # asked again (a minute later): the old page's answer is still stale (another request)
    ctx.clock.advance(minutes=1)
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=sampled.reviewer, json={"reason": "户主重病"})
    assert r.status_code == 200
    r = pages.post(f"/recoveries/{recovery.id}/waiver/decline", {"decline_reason": "不同意", "asked_at": asked_at})
    assert r.status_code == 409
    assert recovery_of(ctx, sampled.paid).waiver_requested_by == users.ids["reviewer"]


def test_the_recovery_page_keeps_every_request_and_its_end(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A declined request keeps its own row (who declined, when, why); a later request confirmed by another
    overwrites none of it, and the page shows both, its days whole."""
    sampled = held_and_paid_in_a_round(ctx, client, users)
    both_found_ineligible(ctx, client, sampled, "2666.67")
    recovery = recovery_of(ctx, sampled.paid)
    pages = Pages(client, users)
    pages.as_("rev2", "county_reviewer")
    waive, decline = f"/api/recoveries/{recovery.id}/waive", f"/api/recoveries/{recovery.id}/waiver/decline"
    assert client.post(waive, headers=sampled.reviewer, json={"reason": "农户确无能力退还"}).status_code == 200
    ctx.clock.advance(minutes=5)
    assert client.post(decline, headers=users.headers("rev2"), json={"reason": "具备偿还能力"}).status_code == 200
    ctx.clock.advance(minutes=5)
    assert client.post(waive, headers=sampled.reviewer, json={"reason": "户主重病"}).status_code == 200
    ctx.clock.advance(minutes=5)
    assert client.post(waive, headers=users.headers("rev2"), json={"reason": "同意核销"}).json()["status"] == "waived"

    pages.login("rev2")
    text = pages.get(f"/recoveries/{recovery.id}").text
    history = text.split('id="waiver-history"')[1].split("</section>")[0]
    declined = history.split('class="waiver-declined"')[1].split("</tr>")[0]
    assert "农户确无能力退还" in declined and "已驳回" in declined and "具备偿还能力" in declined
    assert declined.count('class="small when"') == 2  # asked, declined: both times read whole
    confirmed = history.split('class="waiver-confirmed"')[1].split("</tr>")[0]
    assert "户主重病" in confirmed and "已确认核销" in confirmed and "同意核销" in confirmed
    assert history.index("waiver-declined") < history.index("waiver-confirmed")
    shown = client.get(f"/api/recoveries/{recovery.id}", headers=users.headers("rev2")).json()
    assert shown["waiver_confirm_note"] == "同意核销"
    assert [(w["outcome"], w["note"]) for w in shown["waiver_requests"]] == [
        ("declined", "具备偿还能力"), ("confirmed", "同意核销")]
