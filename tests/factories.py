"""Build cases at a given stage through the real services (not HTTP), for tests of later stages; and read back what
the tests check (`count_rows`, `case_status`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from verifier import demo
from verifier.accounts.auth import Principal, principal_of
from verifier.accounts.service import add_user
from verifier.domain.idnumber import make_id_number
from verifier.store.tables import Case, ContractRow, User

COUNTY = "340223"
DEMO_CONTRACT = Path(__file__).resolve().parents[1] / "contracts" / "demo-2020.toml"
_seq = itertools.count(1)


def accept_contract(session, contract_id: str, clock) -> None:  # type: ignore[no-untyped-def]
    """Accept a loaded contract as the county would (contract_review/service.py): a county reviewer limited to each
    county it covers (two persons at least for several counties); a contract loaded is pending and prices nothing
    until then. Already accepted: nothing to do."""
    from verifier.contract_review import service

    row = session.get(ContractRow, contract_id)
    if row.status == "accepted":
        return
    for code in sorted(row.county_codes):
        username = "f-reviewer-" + code
        user = session.query(User).filter_by(username=username).one_or_none()
        if user is None:
            user = add_user(session, username=username, password="factory-password", roles=["county_reviewer"],
                            counties=[code], display_name="县复核 合同确认", clock=clock)
        if session.get(ContractRow, contract_id).status == "pending":
            service.accept(session, contract_id, principal=principal_of(user), clock=clock)


@dataclass
class Staff:
    clerk: Principal
    supervisor: Principal
    officer1: Principal
    officer2: Principal


def staff(ctx, county: str = COUNTY, team: int = 0) -> Staff:  # type: ignore[no-untyped-def]
    """The clerk, supervisor and officer pair `team` of a county (each created once per database)."""
    names = {key: f"f-{key}-{county}" + (f"-{team}" if key.startswith("officer") else "")
             for key in ("clerk", "supervisor", "officer1", "officer2")}
    with ctx.db.read() as session:  # made already (every case after a county's first): no write transaction
        found = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names.values())))}
        if len(found) == len(names):
            return Staff(**{key: principal_of(found[name]) for key, name in names.items()})
    made = {}
    with ctx.db.begin() as session:
        found = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names.values())))}
        for key, role in (("clerk", "town_clerk"), ("supervisor", "insurer_supervisor"),
                          ("officer1", "field_officer"), ("officer2", "field_officer")):
            user = found.get(names[key])
            if user is None:
                user = add_user(session, username=names[key], password="factory-password", roles=[role],
                                counties=[county], clock=ctx.clock)
            made[key] = principal_of(user)
    return Staff(**made)


_DAYS = 3650  # the birth dates of `new_id_number`: ten years from `born`, then the same again


def new_id_number(born: date = date(1970, 1, 1)) -> str:
    """A valid ID number of the county not made before in this process: born within ten years of `born` (the
    count's day wraps, so that no birth date passes the clock's today however long the run), the sequence part
    carrying the count's turns round them (3651 × turn + day, modulo 1000: a turn's numbers differ from every
    other's for the first thousand turns, 3,650,000 numbers; the first turn's are those made before the wrap)."""
    n = next(_seq)
    turn, day = divmod(n, _DAYS)
    return make_id_number("340223", born + timedelta(days=day), (3651 * turn + day) % 1000)


def free_team(ctx, county: str = COUNTY) -> int:  # type: ignore[no-untyped-def]
    """The first team of the county whose officers have room for one more visit today (a team not made yet has)."""
    from verifier.contract import VisitsSection
    from verifier.store.tables import Visit

    today = ctx.clock.today()
    prefix = f"f-officer1-{county}-"
    with ctx.db.read() as session:
        booked = [v.officer_ids for v in session.scalars(select(Visit).where(Visit.active.is_(True),
                                                                            Visit.visit_on == today))]
        officers = dict(session.execute(select(User.username, User.id).where(User.username.startswith(prefix))).all())
    team = 0
    while True:
        officer = officers.get(f"{prefix}{team}")
        if officer is None or sum(officer in ids for ids in booked) < VisitsSection().capacity_per_day:
            return team
        team += 1


STAGES = ("received", "screened", "scheduled", "checked", "determined")


@contextmanager
def one_checkpoint(ctx) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The block's commits signed by one checkpoint of the log, issued when it ends (when any of them appended), not
    one each: as the running application signs (context.py: one checkpoint for the commits of a second), where the
    tests' context signs after every commit. The log's entries are the same; a factory's steps are not checkpoints a
    test looks at (tests/test_factories.py). Nested: the outer block signs."""
    from verifier.audit import log
    from verifier.audit.checkpoints import CheckpointHook

    hooks = ctx.db.after_commit
    signers = [h for h in hooks if isinstance(h, CheckpointHook)]
    if not signers:
        yield
        return
    appended: list[bool] = []

    def noted(info: dict[str, Any]) -> None:
        if info.get(log.APPENDED):
            appended.append(True)

    at = [i for i, h in enumerate(hooks) if isinstance(h, CheckpointHook)]
    for i in at:
        hooks[i] = noted
    try:
        yield
    finally:
        for i, signer in zip(at, signers):
            hooks[hooks.index(noted)] = signer
        if appended:
            for signer in signers:
                signer({log.APPENDED: True})


def make_case(
    ctx, *, stage: str = "determined", town: str = "城关镇", village: str = "东村",  # type: ignore[no-untyped-def]
    group: str = "exited_low_standard", cause: str = "illness", medical: int = 4_200_000, wages: int = 800_000,
    members: int = 3, stable_income: bool = False, referred_on: date | None = None, county: str = COUNTY,
    head_name: str | None = None, account_number: str | None = None, team: int | None = None,
    billed: bool = True,
) -> str:
    """A case at `stage` (one of STAGES), referred by application, checked with the given figures; returns its id.

    `team`: the officer pair (and vehicle) that visits it, `staff(ctx, county, team)`; by default the first team of
    the county with room today (a pair makes at most `capacity_per_day` visits a day, and a visit holds its place
    until the check is recorded): cases made one after another share officers until their day is full, whatever
    other tests ran before."""
    with one_checkpoint(ctx):
        team = free_team(ctx, county) if team is None and stage != "received" else (team or 0)
        s = staff(ctx, county, team)
        today = ctx.clock.today()
        hh = demo.new_household(town, village, members=members, group=group)
        if head_name:
            hh.head = head_name
        referred_on = referred_on or today - timedelta(days=3)
        case_id = demo.refer(ctx, demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2), hh, cause=cause,
                             amount="1000.00", referred_on=referred_on, county=county)
        if stage != "received":
            demo.advance_to(ctx, demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2), case_id, hh, stage, on=today,
                            vehicle=f"车{team:03d}", cause=cause, cost=medical, wages=wages, stable_income=stable_income,
                            account_number=account_number, billed=billed)
        return case_id


def ready_case(ctx, **kwargs: Any) -> str:  # type: ignore[no-untyped-def]
    """A case at ready_to_pay: determined by the real services (make_case), then the lifecycle actions review_pass,
    post_notice and close_notice (verifier.cases.workflow.advance) standing in for the village review and the notice
    stage, which have tests of their own; its commits signed by one checkpoint. `kwargs` go to make_case."""
    from verifier.cases.workflow import advance, load_case

    with one_checkpoint(ctx):
        case_id = make_case(ctx, stage="determined", **kwargs)
        clerk = staff(ctx, kwargs.get("county", COUNTY)).clerk
        with ctx.db.begin() as session:
            case = load_case(session, case_id, None, for_update=True)
            for action in ("review_pass", "post_notice", "close_notice"):
                advance(session, case, action, actor=clerk, role="town_clerk", clock=ctx.clock,
                        payload={"shortcut": "tests/factories.ready_case"})
    return case_id


def demo_contract_variant(ctx, *replacements: tuple[str, str]) -> Any:  # type: ignore[no-untyped-def]
    """The demo contract with each (old, new) of its text replaced (each old must be in it), loaded and accepted as
    the county would; returns the contract."""
    from verifier.contract import check_contract_text
    from verifier.store.contracts import add_contract

    text = DEMO_CONTRACT.read_text("utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        add_contract(session, contract, actor="test", role="admin", clock=ctx.clock)
        accept_contract(session, contract.id, ctx.clock)
    return contract


def other_county_contract(ctx, county: str) -> str:  # type: ignore[no-untyped-def]
    """A second county under a contract of its own (`other-2020`, the demo's terms), for county-scoping tests."""
    demo_contract_variant(ctx, ('id = "demo-2020"', 'id = "other-2020"'),
                          ('county_codes = ["340223"]', f'county_codes = ["{county}"]'))
    return county


def loose_sampling_contract(ctx, county: str, **rates: str) -> str:  # type: ignore[no-untyped-def]
    """A county under a contract of its own whose sampling section has these rates (e.g. `confidence="0.80"`) in
    place of the demo's: a round may not be looser than its contract, so a test wanting a sample smaller than a
    handful of cases takes them from such a county."""
    demo = {"min_rate": "0.10", "confidence": "0.95", "tolerable_rate": "0.05", "expected_rate": "0.00"}
    demo_contract_variant(ctx, ('id = "demo-2020"', f'id = "loose-{county}"'),
                          ('county_codes = ["340223"]', f'county_codes = ["{county}"]'),
                          *((f'{name} = "{demo[name]}"', f'{name} = "{value}"') for name, value in rates.items()))
    return county


def count_rows(ctx: Any, model: Any, *where: Any) -> int:
    """How many rows of `model` match `where` (nothing written by a refused step: the count stays)."""
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)))


def head_on_record(ctx: Any, case_id: str) -> tuple[str, str]:
    """(name, ID number in clear) of the case's household's head as stored: what a check at the door records (its
    payee is a member the household had, under the name it had)."""
    from verifier.store.tables import Member

    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == case_id))
        head = session.scalars(select(Member).where(Member.household_id == household, Member.relation == "head")
                               .order_by(Member.id)).first()
        return head.name, ctx.vault.open(head.id_number_enc, "member.id_number")


def case_status(ctx: Any, case_id: str) -> str:
    with ctx.db.read() as session:
        return str(session.scalar(select(Case.status).where(Case.id == case_id)))
