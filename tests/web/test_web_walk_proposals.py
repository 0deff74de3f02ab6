"""The second person's proposal pages walked as a tired clerk would: a merge or move proposal reached from a case keeps
its link back to that case after it is confirmed, declined (refused first) or withdrawn; the list does not invite a
password-linked account to 核对并确认 what it may not decide; the held case's two answer forms (确认意见, 驳回原因)
each have their own box, so a label tapped on a phone finds its own form's box."""

from __future__ import annotations

import re
from typing import Any

from deviation_helpers import drawn_round, person, ready_case
from sampling import sampling_helpers

rounds = sampling_helpers.rounds  # the fixture


def test_the_held_cases_two_answer_forms_each_label_their_own_box(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    pages = Pages(client, users)
    person(ctx, users, "sup2", "insurer_supervisor")
    person(ctx, users, "rev2", "county_reviewer")
    case_id = ready_case(ctx)
    round_id = drawn_round(rounds, {case_id})
    assert rounds.result(round_id, case_id, per_capita_income="2666.67", eligible=False)["deviation"] is True
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "维持原认定"})
    assert r.status_code == 200 and r.json()["status"] == "open", r.text
    proposal = r.json()["waiting"]["id"]
    pages.login("rev2")

    def boxes(html: str) -> dict[str, tuple[str, str]]:
        """Each answer form's label target and its box's id."""
        out = {}
        for form in ("proposal-confirm-form", "proposal-decline-form"):
            body = html.split(f'id="{form}"')[1].split("</form>")[0]
            out[form] = (re.search(r'<label for="([^"]+)"', body)[1], re.search(r'<input type="text" id="([^"]+)"',
                                                                               body)[1])
        return out

    def ids_once(html: str) -> None:
        ids = re.findall(r'\sid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})

    text = pages.get(f"/cases/{case_id}").text
    seen = boxes(text)
    assert seen == {"proposal-confirm-form": ("f-confirm-reason", "f-confirm-reason"),
                    "proposal-decline-form": ("f-decline-reason", "f-decline-reason")}, seen
    ids_once(text)
    refused = pages.post(f"/cases/{case_id}/redetermination/proposal/decline", {"proposal_id": proposal,
                                                                               "reason": ""})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    assert 'id="f-decline-reason" name="reason" value="" required maxlength="2000" aria-invalid="true"' in refused.text
    ids_once(refused.text)
