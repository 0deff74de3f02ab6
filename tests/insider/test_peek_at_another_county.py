"""A peek at another county: every GET route, asked by a person limited to one county with the ids and filters of
another county's things, answers as for an id that does not exist and shows nothing of that county.

The victim county is the demo county (`verifier init --demo`: cases at every stage, meetings with their signed
minutes, notices with wall photos, batches, a payee change, sampling rounds), with, besides, an objection, a need
passed to a department, a roster import, a register import, a referral import, a role grant waiting, a re-check's
visit files and a recovery. Its people are limited to it. The attacker is limited to a second county under a contract
of its own, holding one role at a time (each of the eight).

The route table is walked, so a route added later is walked too: every path parameter of a GET route must be named
in `FILLERS` (the victim's object that fills it) or in `NOT_COUNTY_DATA`, and every query parameter in
`QUERY_FILLERS` (the victim's county, town, village, case, household, person... that fills it) or in
`QUERY_NAMING_NO_COUNTY` (why it names nothing of a county); one named in neither fails the table test.

Asked for: a status of 403 or 404, the same as for a made-up id of the same shape, in the same words (the ids
aside); no answer (body, or headers such as a download's file name) showing a head of household's name, a case
number, a masked ID number, a relief or batch amount, the county's own villages or what was written on its
objection, follow-up, register or referral import; no 5xx. Lists, searches, exports and reports asked with the
victim's county code, town, village, a head's name, a case number or a masked ID number show nothing of it, and
the monthly report of the victim's county is refused. The victim's own reader is answered on every filled address
(a few are refused for the paid case's state, listed), so a filler naming nothing cannot make the sweep pass.
A role a route's declaration refuses is answered by the role guard, which reads neither the path nor the query
(tests/api/test_roles.py asks every role on every route): each route is asked by one of the roles it refuses (they
take turns), which must be refused (403) alike for the victim's and a made-up id, and by every role it allows.
About 25 s on SQLite: the demo is built once, the eight roles walk it in one test.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from factories import DEMO_CONTRACT, new_id_number, other_county_contract
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.demo import DEMO_COUNTY, DEMO_PASSWORD, load_demo
from verifier.domain.masking import mask_id
from verifier.domain.money import format_yuan
from verifier.store.tables import Case, Determination, Evidence, Household, Member, User, Visit

THERE = "340224"  # the attacker's county
ROLES = ("field_officer", "insurer_supervisor", "insurer_claims", "finance", "town_clerk", "county_reviewer",
         "auditor", "admin")

# Every path parameter of a GET route: the kind of the other county's object that fills it. A `sha256` is the file
# of the route's own object (`SHA256_OF`, by the route's first segment after `/api`).
FILLERS = {
    "case_id": "case", "household_id": "household", "batch_id": "batch", "notice_id": "notice",
    "round_id": "round", "change_id": "payee_change", "contract_id": "contract", "user_id": "user",
    "meeting_id": "meeting", "objection_id": "objection", "recovery_id": "recovery", "referral_id": "need_referral",
    "import_id": "roster_import", "grant_id": "grant", "index": "audit_index", "sha256": "file",
    "proposal_id": "household_proposal",
}
# An `import_id` is a roster import's but under `registers`, a register import's.
IMPORT_OF = {"registers": "register_import"}
SHA256_OF = {"cases": "case_evidence", "notices": "wall_photo", "meetings": "minutes", "sampling": "recheck_file",
             "sampling-rounds": "recheck_file"}
# ... and the thing such a file belongs to: the case an officer was sent to, the case the round sampled, the notice
# photographed on the wall.
OWNER_OF_FILE = {"cases": {"case": "evidence_case"}, "sampling": {"case": "sampled_case"},
                 "sampling-rounds": {"case": "sampled_case"}, "notices": {"notice": "photo_notice"}}
# Parameters of routes that serve nothing of any county: the application's own scripts and styles, the OpenAPI pages.
NOT_COUNTY_DATA = {"/static/{file_path:path}": "file_path", "/schema/{path:str}": "path"}
PARAM = re.compile(r"\{(\w+):\w+\}")

# Every query parameter of a GET route (by the handler's name for it): what of the victim fills it, ...
QUERY_FILLERS = {
    "county": "county", "county_code": "county", "town": "town", "village": "village", "place": "place",
    "q": "head", "case": "case_number", "case_id": "case", "household_id": "household", "other": "household",
    "contract": "contract", "contract_id": "contract", "officer": "officer", "person": "user",
    "item": "payment_item", "followup": "followup", "index": "audit_index",
}
# ... or why it names nothing of a county: a choice among fixed words, a date, a page, a count, a token of the caller's.
QUERY_NAMING_NO_COUNTY = {
    "account_state": "a fixed word (在用, 已停用)", "action": "an audit action's name", "all": "a switch", "bills": "a count of rows", "cause": "a cause's name",
    "chart": "a chart's name", "cursor": "a position in the caller's own list", "date_from": "a date",
    "date_to": "a date", "day": "a date", "figure": "a report figure's name", "first": "a tree size",
    "fmt": "a file format", "format": "a file format", "from_": "a date", "kind": "a movement's kind",
    "limit": "a count", "mine": "a switch", "month": "a month", "next": "an address of this site",
    "offset": "a count", "page": "a page number", "page_no": "a page number", "period": "a year or month",
    "phone": "a switch (显示完整号码: the caller asks for the phone of the household the path names)",
    "posting_filter": "a fixed word", "role": "a role's name", "rows": "a count of rows", "second": "a tree size", "show": "a fixed word",
    "sort": "a column's name", "status": "a status", "to": "a date", "todo": "a fixed word",
    "tree_size": "a tree size", "unsaved": "a switch", "which": "a state", "to_decide": "a switch",
    "qt": "a search token the server issued to the searcher, read within the searcher's counties",
}
# Addresses the victim's own reader is not answered on with these fillers, and why: filled right, refused for a reason.
NOT_ANSWERED_TO_ITS_OWN = {  # the case filled in is paid: its steps are over (its determination page leads to it)
    "/api/cases/{case_id:str}/result-letter": 409, "/cases/{case_id:str}/result-letter": 409,
    "/cases/{case_id:str}/check": 404, "/cases/{case_id:str}/visit-attempt": 404,
    "/cases/{case_id:str}/payee": 409,
}
HINTS = {"340223-2020-000012"}  # the example case number the forms show (如 340223-2020-000012)
DEPENDENCIES = {"ctx", "db", "request", "signer", "data"}


def _get_handlers(app: Any) -> list[tuple[str, Any]]:
    return sorted(((r.path, h) for r in app.routes for h in getattr(r, "route_handlers", [])
                   if "GET" in h.http_methods and not r.path.startswith("/schema")), key=lambda ph: ph[0])


def _query_of(path: str, handler: Any) -> list[str]:
    path_names = set(PARAM.findall(path))
    return [n for n in handler.parsed_fn_signature.parameters if n not in DEPENDENCIES and n not in path_names]


def _refusing(handler: Any) -> tuple[str, ...]:
    """The roles of ROLES the role guard refuses on the handler, by its declaration (auth.role_guard)."""
    wanted = handler.opt.get("roles")
    if handler.opt.get("public") or wanted == "any":
        return ()
    return tuple(role for role in ROLES if not wanted or role not in wanted)


def _get_routes(app: Any) -> list[str]:
    return sorted({r.path for r in app.routes if "GET" in getattr(r, "methods", set()) and
                   not r.path.startswith("/schema")} | {p for p in NOT_COUNTY_DATA})


def test_every_path_parameter_of_a_get_route_has_a_filler(client) -> None:  # type: ignore[no-untyped-def]
    """A GET route naming a parameter the sweep cannot fill fails here: name its object in FILLERS (and make one of the
    other county's in `_victim`), or say in NOT_COUNTY_DATA why it serves no county's data."""
    unfilled = [(path, name) for path in _get_routes(client.app) for name in PARAM.findall(path)
                if name not in FILLERS and NOT_COUNTY_DATA.get(path) != name]
    assert unfilled == []
    for path in _get_routes(client.app):
        if "{sha256:" in path:
            assert _segment(path) in SHA256_OF, path
    unnamed = sorted({(path, name) for path, handler in _get_handlers(client.app) for name in _query_of(path, handler)
                      if name not in QUERY_FILLERS and name not in QUERY_NAMING_NO_COUNTY and name not in FILLERS})
    assert unnamed == []


def _segment(path: str) -> str:
    parts = [p for p in path.split("/") if p and p != "api"]
    return parts[0]


@dataclass
class Victim:
    ids: dict[str, str]
    secrets: set[str] = field(default_factory=set)
    villages: list[tuple[str, str]] = field(default_factory=list)


def _login(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _victim(ctx: Any, client: Any) -> Victim:
    """The demo county, and one of every other kind of object the demo does not make."""
    from recheck_kit import dated_photo, visit_api
    from roster_kit import post_roster, roster_csv

    from verifier.needs.models import NeedReferral
    from verifier.notices.models import Notice, NoticeItem, Objection, VillageFile, VillageMeeting
    from verifier.payments.models import PaymentBatch, PaymentItem, PayeeCorrection, Recovery
    from verifier.roster.models import RosterImport
    from verifier.sampling.models import SamplingItem, SamplingRound
    from verifier.accounts.models import RoleGrant
    from verifier.store.base import new_id

    list(load_demo(ctx))
    other_county_contract(ctx, THERE)
    clerk, reviewer, supervisor, admin = (_login(client, u) for u in ("clerk", "reviewer", "supervisor", "admin"))
    today = ctx.clock.today()
    with ctx.db.read() as session:
        open_notice = session.scalar(select(Notice.id).where(Notice.closed_at.is_(None)))
        noticed = session.execute(select(NoticeItem.case_id, Notice.posted_on).join(
            Notice, Notice.id == NoticeItem.notice_id).where(Notice.id == open_notice)).first()
        paid = session.scalar(select(Case.id).where(Case.status == "paid").order_by(Case.id))
        drawn = session.scalar(select(SamplingRound.id).where(SamplingRound.status == "drawn"))
        sampled = session.scalar(select(SamplingItem.case_id).where(SamplingItem.round_id == drawn)
                                 .order_by(SamplingItem.case_id))
        scheduled, officers = session.execute(select(Case.id, Visit.officer_ids).join(Visit, Visit.case_id == Case.id)
                                              .where(Case.status == "scheduled").order_by(Case.id)).first()
        officer = session.scalar(select(User.username).where(User.id == officers[0]))
    r = client.post(f"/api/cases/{scheduled}/evidence", headers=_login(client, officer),
                    files={"file": ("p.jpg", dated_photo(f"{today:%Y:%m:%d} 09:30:00"), "image/jpeg")})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/notices/{open_notice}/objections", headers=clerk, json={
        "case_id": noticed[0], "received_on": noticed[1].isoformat(), "summary": "村民反映孙异议家有经营收入"})
    assert r.status_code == 201, r.text
    r = client.post("/api/need-referrals", headers=supervisor, json={"case_id": paid, "need": "dibao"})
    assert r.status_code == 201, r.text
    r = post_roster(client, reviewer, roster_csv([(new_id_number(), "脱贫户")]), county=DEMO_COUNTY)
    assert r.status_code in (200, 201), r.text
    register = ("序号,姓名,身份证号码,号牌号码,车辆类型,车辆价值\n1,周登记," + new_id_number()
                + ",皖B12345,小型轿车,158000.00\n").encode("utf-8")
    r = client.post("/api/registers/imports", headers=reviewer, files={"file": ("r.csv", register, "text/csv")},
                    data={"kind": "vehicle", "county_code": DEMO_COUNTY})
    assert r.status_code == 201, r.text
    register_import = r.json()["import_id"]
    referrals = ("身份证号,姓名,乡镇,村,原因,金额\n" + new_id_number() + ",钱南五,城关镇,南村,因病,31234.00\n").encode()
    r = client.post("/api/referrals/imports", headers=reviewer, files={"file": ("m.csv", referrals, "text/csv")},
                    data={"channel": "medical_insurance", "county_code": DEMO_COUNTY})
    assert r.status_code in (200, 201), r.text
    with ctx.db.read() as session:
        clerk_id = session.scalar(select(User.id).where(User.username == "clerk"))
    r = client.post(f"/api/users/{clerk_id}/roles", headers=admin, json={"roles": ["insurer_claims"]})
    assert r.status_code == 200, r.text
    visit = visit_api(ctx, client, reviewer, drawn, sampled)
    with ctx.db.read() as session:
        item, settled_by = session.execute(select(PaymentItem.id, Visit.officer_ids).join(
            Visit, Visit.case_id == PaymentItem.case_id).where(PaymentItem.case_id == paid)).first()
        checked = set(session.scalars(select(User.username).where(User.id.in_(settled_by))))
    # not an officer of its check: they typed the payee account at the door, and do not ask if the money arrived
    paid_officer = next(o for o in ("officer1", "officer2", "officer3", "officer4") if o not in checked)
    r = client.post("/api/followups", headers=_login(client, paid_officer), json={
        "case_id": paid, "done_on": today.isoformat(), "method": "visit", "income_change": "same",
        "risk_remains": False, "satisfaction": "satisfied", "note": "回访时户主说明情况",
        "received": "no", "received_amount": "0"})  # an open alert (未收到救助金待核实) for the sweep to look for
    assert r.status_code == 201, r.text
    followup = r.json()["id"]
    with ctx.db.begin() as session:  # a recovery, as a re-check finding a paid case overpaid opens it
        case = session.get(Case, paid)
        session.add(Recovery(id=new_id("rcv"), case_id=paid, round_id=drawn, county_code=DEMO_COUNTY,
                             contract_id=case.contract_id, amount=123_456, repaid=0, status="open",
                             paid_amount=223_456, due_amount=100_000, opened_by="u_reviewer",
                             opened_at=ctx.clock.now()))
    with ctx.db.read() as session:  # a member's move waiting for a second person
        moving, moving_from = session.execute(select(Member.id, Member.household_id).join(
            Case, Case.household_id == Member.household_id).where(Case.id == paid, Member.relation != "head")
            .order_by(Member.id)).first()
    r = client.post(f"/api/households/{moving_from}/members/{moving}/move", headers=supervisor,
                    json={"reason": "已分户另过", "new_household": True})
    assert r.status_code == 200, r.text
    proposal = r.json()["id"]
    with ctx.db.read() as session:
        first = lambda q: session.scalar(q.limit(1))  # noqa: E731
        ids = {
            "case": paid, "household": session.scalar(select(Case.household_id).where(Case.id == paid)),
            "batch": first(select(PaymentBatch.id).order_by(PaymentBatch.id)),
            "notice": open_notice, "round": drawn,
            "payee_change": first(select(PayeeCorrection.id)),
            "contract": first(select(Case.contract_id).where(Case.id == paid)),
            "user": clerk_id, "meeting": first(select(VillageMeeting.id)),
            "objection": first(select(Objection.id)), "recovery": first(select(Recovery.id)),
            "need_referral": first(select(NeedReferral.id)), "roster_import": first(select(RosterImport.id)),
            "register_import": register_import,
            "grant": first(select(RoleGrant.id)), "household_proposal": proposal,
            "audit_index": str(first(select(AuditEntry.idx).where(AuditEntry.county_code == DEMO_COUNTY)
                                     .order_by(AuditEntry.idx.desc()))),
            "case_evidence": first(select(Evidence.sha256).where(Evidence.case_id == scheduled)),
            "evidence_case": scheduled, "sampled_case": sampled,
            "wall_photo": first(select(VillageFile.sha256).where(VillageFile.kind == "wall_photo")),
            "photo_notice": first(select(VillageFile.notice_id).where(VillageFile.kind == "wall_photo")),
            "minutes": first(select(VillageFile.sha256).where(VillageFile.kind != "wall_photo")),
            "recheck_file": visit["evidence"][0],
            # what the query fills (QUERY_FILLERS)
            "county": DEMO_COUNTY, "town": "河口镇", "village": "柳树村", "place": "河口镇/柳树村",
            "case_number": session.scalar(select(Case.number).where(Case.id == paid)),
            "head": session.scalar(select(Household.head_name).join(Case, Case.household_id == Household.id)
                                   .where(Case.id == paid)),
            "officer": officers[0], "payment_item": item, "followup": followup,
        }
        victim = Victim({k: v for k, v in ids.items()})
        for number, head in session.execute(select(Case.number, Household.head_name).join(
                Household, Household.id == Case.household_id)):
            victim.secrets |= {number, head}
        for sealed in session.scalars(select(Member.id_number_enc)):
            victim.secrets.add(mask_id(ctx.vault.open(sealed, "member.id_number")))
        contract_text = DEMO_CONTRACT.read_text("utf-8")  # the attacker's own contract's figures are no secret
        reliefs = list(session.scalars(select(Determination.relief)))
        batches = list(session.scalars(select(PaymentBatch.total)))
        for fen in (*reliefs, sum(reliefs), *batches, sum(batches)):  # each household's relief, batches, totals
            if fen and format_yuan(fen) not in contract_text and fen % 100_000:
                victim.secrets |= {format_yuan(fen), f"{fen // 100:,}.{fen % 100:02d}"}
        victim.secrets |= {"孙异议", "钱南五", "周登记", "1234.56", "柳树村", "河口村", "河口镇", "回访时户主说明情况"}
        victim.ids["masked_id"] = sorted(s for s in victim.secrets if "*" in s)[0]
        # The forms' hint of a case number's shape happens to be one of the demo's: shown to everyone, it tells nothing.
        victim.secrets -= HINTS
        victim.villages = [("城关镇", "东村"), ("河口镇", "柳树村")]
    assert all(victim.ids.values()), [k for k, v in victim.ids.items() if not v]
    return victim


def _text(response: Any) -> str:
    """What a person would read: the page, JSON or CSV, the XML inside an xlsx or docx, and the answer's headers."""
    content = response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            body = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    else:
        body = content.decode("utf-8", "replace")
    from urllib.parse import unquote

    return body + "\n" + unquote("\n".join(f"{k}: {v}" for k, v in response.headers.items()))


def _missing(value: str) -> str:
    """An id of the same shape that names nothing."""
    if value.isdigit():
        return str(10**9 + int(value))
    if re.fullmatch(r"[0-9a-f]{64}", value):
        return "0" * 64
    prefix, _, rest = value.partition("_")
    return f"{prefix}_{'0' * len(rest)}" if rest else "0" * len(value)


def _fill(path: str, ids: dict[str, str], miss: bool) -> str:
    def one(m: re.Match[str]) -> str:
        kind = FILLERS[m.group(1)]
        if kind == "roster_import":
            kind = IMPORT_OF.get(_segment(path), kind)
        if kind == "file":
            kind = SHA256_OF[_segment(path)]
        elif "{sha256:" in path:
            kind = OWNER_OF_FILE.get(_segment(path), {}).get(kind, kind)
        return _missing(ids[kind]) if miss else ids[kind]

    return PARAM.sub(one, path)


def _neutral(text: str, url: str, path: str) -> str:
    """The answer with the ids of its url put as <id> (and the tokens that differ per request dropped)."""
    pattern = "^" + PARAM.sub("(.+)", re.escape(path).replace(r"\{", "{").replace(r"\}", "}")) + "$"
    named = re.match(pattern, url)
    for i in sorted(named.groups() if named else (), key=len, reverse=True):
        text = text.replace(i, "<id>")
    text = re.sub(r'(csrf[^"]*"\s*(value|content)=")[^"]*"', r"\1", text)
    text = re.sub(r"(nonce|request_id|trace|_csrf_token|csrftoken)[\"'=:]+\s*\"?[\w\-+/=]*", r"\1", text)
    return re.sub(r"(date|set-cookie|content-length|x-request-id): .*", r"\1", text, flags=re.I)


def _differ(a: str, b: str) -> str:
    """Where two answers part: a few characters of each around the first difference."""
    i = next((n for n, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"{a[max(0, i - 60):i + 60]!r} / {b[max(0, i - 60):i + 60]!r}"


def test_attack_a_county_limited_person_peeks_at_another_county_on_every_get_route(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Each role in turn, limited to THERE: every GET route with the victim's ids in its path and the victim's county,
    places, case and people in its query answers as for a made-up id (same status, same words) and shows nothing of
    the victim; the victim's own reader gets the same addresses answered."""
    from web.pagekit import Pages

    victim = _victim(ctx, client)
    walked = [(path, _query_of(path, handler), _refusing(handler)) for path, handler in _get_handlers(client.app)
              if path not in NOT_COUNTY_DATA and path != "/logout"]
    routes = [(path, query) for path, query, _ in walked]
    # the one role of those the route refuses that asks it (the guard's answer depends on the role alone)
    refused_asker = {path: refused[n % len(refused)] for n, (path, _, refused) in enumerate(walked) if refused}
    refused_by = {path: refused for path, _, refused in walked}
    pages = Pages(client, users)
    problems: list[tuple[Any, ...]] = []
    tried = 0
    month = ctx.clock.today().strftime("%Y-%m")
    for role in ROLES:
        who = f"peek-{role.replace('_', '-')}"
        users.add(who, role, counties=(THERE,))
        pages.login(who)
        headers = users.headers(who)

        def get(url: str, params: dict[str, str]) -> Any:
            if url.startswith("/api"):
                return client.get(url, headers=headers, params=params)
            return pages.get(url, params=params)

        for path, query in routes:
            refused = role in refused_by[path]
            if refused and refused_asker[path] != role:
                continue  # another role the route refuses asked it
            params = {name: victim.ids[QUERY_FILLERS[name]] for name in query if name in QUERY_FILLERS}
            if PARAM.search(path):
                url, missing = _fill(path, victim.ids, False), _fill(path, victim.ids, True)
                theirs, nothing = get(url, params), get(missing, params)
                tried += 1
                problems += _leaks(victim, role, url, params, theirs)
                if refused and theirs.status_code != 403:
                    problems.append((role, url, theirs.status_code, "not refused by the role guard"))
                if theirs.status_code not in (403, 404) or theirs.status_code != nothing.status_code:
                    problems.append((role, url, theirs.status_code, "status", nothing.status_code))
                elif (a := _neutral(_text(theirs), url, path)) != (b := _neutral(_text(nothing), missing, path)):
                    problems.append((role, url, theirs.status_code, "worded unlike a made-up id", _differ(a, b)))
                continue
            for q in ("head", "case_number", "masked_id"):  # searched by name, by case number, by a masked ID number
                asked = {**params, "q": victim.ids[q]} if "q" in query else params
                answer = get(path, asked)
                problems += _leaks(victim, role, path, asked, answer)
                tried += 1
                if refused and answer.status_code != 403:
                    problems.append((role, path, answer.status_code, "not refused by the role guard"))
                if "q" not in query or refused:  # the guard reads no query
                    break
    assert tried > 1000
    # The report and the dashboard of the victim's county, asked for by its code: refused, or the caller's own (empty).
    for role in ("county_reviewer", "auditor"):
        headers = users.headers(f"peek-{role.replace('_', '-')}")
        report = client.get("/api/reports/monthly", headers=headers, params={"county_code": DEMO_COUNTY, "month": month})
        assert report.status_code in (403, 404), report.text
    assert problems == [], "\n".join(map(repr, problems))
    # The fillers name real things: the victim county's own reader, holding every role, is answered on those addresses.
    users.add("own-all", *ROLES, counties=(DEMO_COUNTY,))
    pages.login("own-all")
    headers = users.headers("own-all")
    answered = {path: (client.get(url, headers=headers) if url.startswith("/api") else pages.get(url)).status_code
                for path, _ in routes if PARAM.search(path) for url in [_fill(path, victim.ids, False)]}
    assert {p: s for p, s in answered.items() if s not in (200, 303)} == NOT_ANSWERED_TO_ITS_OWN, repr({p: s for p, s in answered.items() if s not in (200, 303)})
    # The victim's open receipt alert is there to be leaked: its own reader sees it on both lists the sweep walked.
    head = victim.ids["head"]
    assert head in _text(pages.get("/receipt-alerts")), "the victim's receipt alert is not on its own list"
    alerts = client.get("/api/followups/receipt-alerts", headers=headers).json()
    assert [a for a in alerts["items"] if a["followup_id"] == victim.ids["followup"]], alerts
    assert {"/receipt-alerts", "/api/followups/receipt-alerts"} <= {p for p, _ in routes}


def _leaks(victim: Victim, role: str, url: str, asked: dict[str, str], r: Any) -> list[tuple[Any, ...]]:
    """The victim's values in the answer (the url and what was asked aside: the caller typed those)."""
    shown = _text(r).replace(url, "")
    for value in asked.values():
        shown = shown.replace(value, "")
    leaked = sorted(s for s in victim.secrets if s in shown)
    found = [(role, url, asked, r.status_code, "shows", leaked[:5])] if leaked else []
    return found + ([(role, url, asked, r.status_code, "fails")] if r.status_code >= 500 else [])
