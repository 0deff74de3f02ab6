"""A field officer's check as an oracle on ID numbers.

The case list and the case page show a household's ID numbers masked 6+4, which hides only the birth date; the case
search counts whole ID numbers for that reason (cases/id_search.py, 30 in the login window). But a check naming a
member who is recorded in another household of the county is refused with 此人已登记在其他家庭 (another county's:
with a neutral refusal), and nothing is written. So the officer sent to one household could post, to their own case,
checks naming candidate numbers (the masked one's region and tail, every birth date whose check digit fits) made
invalid on purpose (a photo never uploaded), and read which candidate was refused as "in another household": the
neighbour's whole ID number, without a limit and without a trace. Each ID number a check names that its household
does not already hold is now counted per officer, as a search by a whole ID number is (`checks/member_probes.py`,
its own allowance in the same window); past it the check is refused (429, Retry-After) before anything is compared,
so the answer no longer depends on the number."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from factories import COUNTY, make_case
from insider_kit import check_body, head_on_record, scheduled_visit

from verifier.checks.service import ANOTHER_HOUSEHOLD
from verifier.domain.idnumber import make_id_number
from verifier.domain.masking import mask_id

NEVER_UPLOADED = "0" * 64


def _probe(client: Any, headers: dict[str, str], case_id: str, body: dict[str, Any], candidate: str) -> Any:
    """A check of the officer's own case naming `candidate` as a second member, made to fail (a photo never
    uploaded), so that nothing is written whatever the answer."""
    probe = {**body, "members": [*body["members"], {"name": "某某", "id_number": candidate, "relation": "spouse",
                                                       "labour": "full"}],
             "evidence": [NEVER_UPLOADED]}
    return client.post(f"/api/cases/{case_id}/check", headers=headers, json=probe)


def _candidates(masked: str, near: date, days: int) -> list[str]:
    """Whole ID numbers fitting the 6+4 mask: the region, the tail (sequence and check digit), birth dates around
    `near`, ordered by distance from it."""
    region, seq = masked[:6], int(masked[-4:-1])
    found = []
    for d in sorted(range(-days, days + 1), key=abs):
        number = make_id_number(region, near + timedelta(days=d), seq)
        if mask_id(number) == masked:
            found.append(number)
    return found


def test_attack_officer_unmasks_a_neighbour_through_refused_checks(ctx: Any, client: Any, users: Any) -> None:
    per_window = ctx.settings.id_lookups_per_window  # 60 by default
    neighbour = make_case(ctx, stage="checked", village="东村")
    target = head_on_record(ctx, neighbour)[1]
    case_id = make_case(ctx, stage="screened", village="西村")
    visit = scheduled_visit(ctx, client, users, case_id)
    # What the officer reads: the neighbour's number, masked.
    r = client.get(f"/api/cases/{neighbour}", headers=visit.off)
    assert r.status_code == 200, r.text
    masked = mask_id(target)
    assert target not in r.text and masked in r.text
    body = check_body(visit.head, visit.head_id, visit.officers, visit.today)
    # A guess two years off: the true birth date comes only after more candidates than the allowance.
    guess = date(int(target[6:10]), int(target[10:12]), int(target[12:14])) + timedelta(days=2 * 365)
    candidates = _candidates(masked, guess, 3 * 365)
    assert target in candidates and candidates.index(target) > per_window
    answers: dict[str, tuple[int, bool]] = {}
    for candidate in candidates:
        r = _probe(client, visit.off, case_id, body, candidate)
        answers[candidate] = (r.status_code, ANOTHER_HOUSEHOLD in r.text)
        if r.status_code == 429:
            assert "过于频繁" in r.json()["detail"] and int(r.headers["Retry-After"]) > 0
            break
    singled_out = [c for c, (_, elsewhere) in answers.items() if elsewhere]
    assert singled_out == [], f"the neighbour's number was told apart after {len(answers)} checks"
    assert [s for s, _ in answers.values()] == [422] * per_window + [429]
    # Nothing written by the refused checks; the officer's own check, with the household's own members, still goes
    # in once the window has passed.
    r = client.get(f"/api/cases/{case_id}", headers=visit.sup)
    assert r.json()["status"] == "scheduled"
    ctx.clock.advance(minutes=ctx.settings.login_window_minutes, seconds=1)
    r = client.post(f"/api/cases/{case_id}/check", headers=visit.off, json=body)
    assert r.status_code == 201, r.text


def test_one_check_naming_many_new_people_is_counted_whole(ctx: Any, client: Any, users: Any) -> None:
    """Many candidates in one check count as many (a check takes 30 members): a check naming more people new to the
    household than the allowance leaves is refused whole (429) before anything is compared, and counts nothing."""
    per_window = ctx.settings.id_lookups_per_window  # 60 by default
    neighbour = make_case(ctx, stage="checked", village="东村")
    target = head_on_record(ctx, neighbour)[1]
    case_id = make_case(ctx, stage="screened", village="西村")
    visit = scheduled_visit(ctx, client, users, case_id)
    body = check_body(visit.head, visit.head_id, visit.officers, visit.today)
    birth = date(int(target[6:10]), int(target[10:12]), int(target[12:14]))
    candidates = [c for c in _candidates(mask_id(target), birth + timedelta(days=3 * 365), 3 * 365) if c != target]

    def named(numbers: list[str]) -> dict[str, Any]:
        return {**body, "evidence": [NEVER_UPLOADED], "members": [*body["members"], *(
            {"name": "某某", "id_number": c, "relation": "other", "labour": "full"} for c in numbers)]}

    per_check = 29  # besides the head
    sent = 0
    while sent + per_check <= per_window:
        r = client.post(f"/api/cases/{case_id}/check", headers=visit.off, json=named(candidates[sent:sent + per_check]))
        assert r.status_code == 422, r.text
        sent += per_check
    left = per_window - sent
    r = client.post(f"/api/cases/{case_id}/check", headers=visit.off,
                    json=named([*candidates[sent:sent + left], target]))
    assert r.status_code == 429, r.text
    assert ANOTHER_HOUSEHOLD not in r.text
    # Counted nothing: what the allowance leaves still goes (and says what it says), one more does not.
    r = client.post(f"/api/cases/{case_id}/check", headers=visit.off, json=named(candidates[sent:sent + left]))
    assert r.status_code == 422, r.text
    r = client.post(f"/api/cases/{case_id}/check", headers=visit.off, json=named([target]))
    assert r.status_code == 429, r.text
    # The household's own members count nothing: its own check goes in.
    r = client.post(f"/api/cases/{case_id}/check", headers=visit.off, json=body)
    assert r.status_code == 201, r.text


def test_a_households_own_members_are_not_counted(ctx: Any, client: Any, users: Any) -> None:
    """A check re-recording the members its household already holds counts nothing, however often it is sent."""
    per_window = ctx.settings.id_lookups_per_window  # 60 by default
    case_id = make_case(ctx, stage="screened", village="西村")
    visit = scheduled_visit(ctx, client, users, case_id)
    body = check_body(visit.head, visit.head_id, visit.officers, visit.today)
    for _ in range(per_window + 5):
        r = client.post(f"/api/cases/{case_id}/check", headers=visit.off, json={**body, "evidence": [NEVER_UPLOADED]})
        assert r.status_code == 422, r.text
    r = client.post(f"/api/cases/{case_id}/check", headers=visit.off, json=body)
    assert r.status_code == 201, r.text


def test_a_check_sent_again_counts_its_numbers_once(ctx: Any, client: Any, users: Any) -> None:
    """An officer's first check of a six-person household names five numbers the household does not hold; sent
    again after honest refusals (a photo not uploaded, a mistyped field) it names the same five, which cost nothing
    more in the window (the allowance counts distinct numbers): what is left of it is still the allowance less five,
    and the 61st distinct number is refused (429) as before; a number already counted is no new look-up."""
    per_window = ctx.settings.id_lookups_per_window  # 60 by default
    case_id = make_case(ctx, stage="screened", village="西村")
    visit = scheduled_visit(ctx, client, users, case_id)
    body = check_body(visit.head, visit.head_id, visit.officers, visit.today)
    family = [{"name": f"成员{i}", "id_number": make_id_number("340223", date(1990 + i, 1, 2), 10 + i),
               "relation": "child", "labour": "full"} for i in range(5)]
    first = {**body, "members": [*body["members"], *family]}
    for _ in range(per_window // 5 + 3):  # more resubmissions than the allowance would take five at a time
        r = client.post(f"/api/cases/{case_id}/check", headers=visit.off, json={**first, "evidence": [NEVER_UPLOADED]})
        assert r.status_code == 422, r.text
    others = [make_id_number("340223", date(1970, 1, 1) + timedelta(days=d), 7) for d in range(per_window)]
    for number in others[:per_window - 5]:
        r = _probe(client, visit.off, case_id, first, number)
        assert r.status_code == 422, r.text
    r = _probe(client, visit.off, case_id, first, others[per_window - 5])  # the 61st distinct number
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) > 0
    # the numbers counted already are no new look-up: the form as it was still goes in
    r = client.post(f"/api/cases/{case_id}/check", headers=visit.off, json=first)
    assert r.status_code == 201, r.text


__all__ = ["COUNTY"]
