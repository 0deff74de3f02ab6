"""A clerk's application as an oracle on the county's roster (防返贫监测名单).

Where the county has put its roster in force, a household's application naming another group than the roster's for
the applicant is refused, naming the roster's (县里的防返贫监测名单上此人应为非高标准脱贫户…). The refusal is given
with the form's other problems, and a refused application writes nothing. So a clerk could post applications for any
ID number dated where no contract covers the county (always refused, never written) and read from the answer whether
that person is registered as having left poverty: a fact about anyone whose number they hold, and, for a number the
pages show masked 6+4, the birth date (of all the candidates only the person on the roster answers so), without a
limit and without a trace. The applications whose group is compared with the roster are now counted per clerk, as
searches by a whole ID number are (`referrals/roster_probes.py`, its own allowance in the login window); past it
the application is refused (429, Retry-After) before the roster is read."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from factories import COUNTY, new_id_number
from roster_kit import post_confirmed
from web.pagekit import Pages

from verifier.domain.idnumber import make_id_number
from verifier.domain.masking import mask_id

ROSTER_SAYS = "县里的防返贫监测名单上此人应为"


def _application(id_number: str, referred_on: str = "2019-06-01") -> dict[str, Any]:
    """By default dated where no contract covers the county: refused whatever the roster says, never written."""
    return {"county_code": COUNTY, "id_number": id_number, "name": "某某", "town": "城关镇", "village": "东村",
            "household_group": "low_income", "cause": "illness", "amount": "1000.00", "referred_on": referred_on}


def _candidates(masked: str, near: date, days: int) -> list[str]:
    region, seq = masked[:6], int(masked[-4:-1])
    found = []
    for d in sorted(range(-days, days + 1), key=abs):
        number = make_id_number(region, near + timedelta(days=d), seq)
        if mask_id(number) == masked:
            found.append(number)
    return found


def test_attack_clerk_reads_the_roster_through_refused_applications(ctx: Any, client: Any, users: Any) -> None:
    per_window = ctx.settings.id_lookups_per_window  # 60 by default
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    exited = new_id_number(date(1961, 3, 9))
    roster = f"序号,姓名,证件号码,与户主关系,监测对象类别\r\n1,人员1,{exited},户主,脱贫户\r\n".encode("gbk")
    post_confirmed(client, ctx, users.headers("rev"), roster)
    clerk = users.headers("clerk")
    # (the factories' numbers move the birth date on with each one made: the true one, read from the number)
    guess = date(int(exited[6:10]), int(exited[10:12]), int(exited[12:14])) + timedelta(days=2 * 365)
    candidates = _candidates(mask_id(exited), guess, 3 * 365)
    assert exited in candidates and candidates.index(exited) > per_window
    answers: dict[str, tuple[int, bool]] = {}
    for candidate in candidates:
        r = client.post("/api/referrals", headers=clerk, json=_application(candidate))
        answers[candidate] = (r.status_code, ROSTER_SAYS in r.text)
        if r.status_code == 429:
            assert "过于频繁" in r.json()["detail"] and int(r.headers["Retry-After"]) > 0
            break
    told = [c for c, (_, said) in answers.items() if said]
    assert told == [], f"the roster told the clerk about {told} after {len(answers)} applications"
    assert [s for s, _ in answers.values()] == [422] * per_window + [429]
    # The clerk's page says the same, the form kept as typed, the roster not read.
    pages = Pages(client, users)
    pages.login("clerk")
    r = pages.post("/applications/new", _application(exited, referred_on="2020-06-01"))
    assert r.status_code == 429, r.text[-1500:]
    assert "过于频繁" in r.text and ROSTER_SAYS not in r.text and exited in r.text
    # Once the window has passed, the clerk's real applications go in again, the roster's group still enforced.
    ctx.clock.advance(minutes=ctx.settings.login_window_minutes, seconds=1)
    r = client.post("/api/referrals", headers=clerk, json=_application(exited, referred_on="2020-06-01"))
    assert r.status_code == 422 and ROSTER_SAYS in r.text, r.text
    r = client.post("/api/referrals", headers=clerk, json=_application(new_id_number(), referred_on="2020-06-01"))
    assert r.status_code == 201, r.text


def test_without_a_roster_nothing_is_counted(ctx: Any, client: Any, users: Any) -> None:
    """A county with no roster in force compares no group: its clerk's applications count nothing."""
    per_window = ctx.settings.id_lookups_per_window  # 60 by default
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    clerk = users.headers("clerk")
    for _ in range(per_window + 3):
        r = client.post("/api/referrals", headers=clerk, json=_application(new_id_number()))
        assert r.status_code == 422, r.text
    r = client.post("/api/referrals", headers=clerk, json=_application(new_id_number(), referred_on="2020-06-01"))
    assert r.status_code == 201, r.text


def test_an_application_sent_again_counts_its_number_once(ctx: Any, client: Any, users: Any) -> None:
    """The same applicant's application refused and sent again (a field mistyped) is one comparison with the roster
    in the window, however often: the clerk's allowance is left for other numbers, the 61st distinct one refused."""
    per_window = ctx.settings.id_lookups_per_window  # 60 by default
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    exited = make_id_number("340223", date(1961, 3, 9), 901)  # fixed days: the factory's drift with its count
    roster = f"序号,姓名,证件号码,与户主关系,监测对象类别\r\n1,人员1,{exited},户主,脱贫户\r\n".encode("gbk")
    post_confirmed(client, ctx, users.headers("rev"), roster)
    clerk = users.headers("clerk")
    applicant = make_id_number("340223", date(1975, 5, 5), 902)
    for _ in range(per_window + 5):
        r = client.post("/api/referrals", headers=clerk, json=_application(applicant))
        assert r.status_code == 422, r.text
    others = [make_id_number("340223", date(1980, 1, 1) + timedelta(days=d), 903) for d in range(per_window)]
    for number in others[:per_window - 1]:
        r = client.post("/api/referrals", headers=clerk, json=_application(number))
        assert r.status_code == 422, r.text
    r = client.post("/api/referrals", headers=clerk, json=_application(others[-1]))  # the 61st distinct number
    assert r.status_code == 429, r.text
    r = client.post("/api/referrals", headers=clerk, json=_application(applicant, referred_on="2020-06-01"))
    assert r.status_code == 201, r.text
