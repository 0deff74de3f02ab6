"""The demo works in the current year: its contract is in force today, its cases are this year's, and a form sent
with the dates it proposes is accepted. Forms propose a date inside a contract in force."""

from __future__ import annotations

import re
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from verifier.cli import main
from verifier.domain.idnumber import make_id_number
from verifier.clock import Clock, FixedClock
from verifier.context import Context
from verifier.settings import Settings
from verifier.store import contracts as contract_store
from verifier.store.tables import Case, Check, ContractRow, Visit

sys.path.insert(0, str(Path(__file__).parent / "web"))
from pagekit import Pages  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _form_value(html: str, name: str) -> str:
    m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    assert m, name
    return m.group(1)


def test_demo_init_gives_a_contract_in_force_and_a_form_sent_with_its_default_date_is_accepted(
        tmp_path: Path, database_url: str) -> None:
    from litestar.testing import TestClient

    from app_kit import the_app
    from verifier.demo import DEMO_PASSWORD

    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}
    out = CliRunner().invoke(main, ["init", "--demo", "--contracts", str(ROOT / "contracts")], env=env,
                             catch_exceptions=False)
    assert out.exit_code == 0, out.output
    today = Clock().today()
    assert f"已添加示范服务合同 demo-{today.year}" in out.output
    assert (tmp_path / "home" / "contracts" / f"demo-{today.year}.toml").is_file()
    # The repository's demo-2020.toml is loaded unchanged (same content hash as its file).
    assert (ROOT / "contracts" / "demo-2020.toml").read_text("utf-8").startswith("# Demo service contract:")
    ctx = Context.open(Settings.from_env(env))
    try:
        with ctx.db.read() as session:
            assert contract_store.contract_for(session, "340223", today) is not None
            assert session.get(ContractRow, "demo-2020") is not None
            years = set(session.scalars(select(func.distinct(Case.contract_year))))
            first, last = session.execute(select(func.min(Case.referred_on), func.max(Case.referred_on))).one()
            # The visits still to make are on the day the demo is loaded (recorded at the door, no reason for a late
            # entry needed); the history's checks were entered on their visit day.
            to_visit = session.scalars(select(Visit.visit_on).join(Case, Case.id == Visit.case_id)
                                       .where(Case.status == "scheduled", Visit.active.is_(True))).all()
            recorded_after = set(session.scalars(select(Check.recorded_days_after)))
        assert to_visit and min(to_visit) >= today, to_visit
        assert recorded_after == {0}, recorded_after
        assert last <= today and (today - first).days <= 60 and last.year == today.year
        assert years <= {today.year, today.year - 1}
        with the_app(ctx) as app, TestClient(app=app) as client:  # the process's one application, on this context
            pages = Pages(client, None)
            pages.login("clerk", DEMO_PASSWORD)
            form = pages.get("/applications/new").text
            proposed = _form_value(form, "referred_on")
            assert proposed == today.isoformat()
            fields = {"county_code": "340223", "name": "钱多多", "id_number": make_id_number("340223", date(1980, 1, 1), 12), "household_group": "low_income",
                      "cause": "illness", "amount": "9000", "referred_on": proposed}
            fields.update({"town": "河口镇", "village": "河口村"})
            r = pages.post("/applications/new", fields)
            assert r.status_code == 303, r.text
            assert r.headers["location"].startswith("/cases/case_")
    finally:
        ctx.close()


def test_the_demo_contract_of_early_january_holds_the_weeks_before_it() -> None:
    from verifier.contract import check_contract_text
    from verifier.demo import DEMO_TERMS, demo_contract_text

    text = demo_contract_text(date(2031, 1, 20), DEMO_TERMS.read_text("utf-8"))
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    assert (contract.id, contract.start, contract.end) == ("demo-2031", date(2030, 1, 1), date(2031, 12, 31))
    assert "2031年度" in contract.spec.title
    assert contract.budget == check_contract_text(DEMO_TERMS.read_bytes())[0].budget  # the same terms otherwise


@pytest.mark.parametrize("today, expected", [
    (date(2020, 6, 1), date(2020, 6, 1)),  # a contract is in force: today
    (date(2026, 12, 4), date(2020, 12, 31)),  # none in force: the last day of the latest that ended
    (date(2019, 3, 1), date(2019, 3, 1)),  # only contracts to come: today
])
def test_forms_propose_a_day_inside_a_contract(ctx, today: date, expected: date) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        assert contract_store.default_day(session, ["340223"], today) == expected
        assert contract_store.default_day(session, [], today) == expected
        assert contract_store.default_day(session, ["999999"], today) == today  # no contract of that county


@pytest.fixture
def later_clock():  # type: ignore[no-untyped-def]
    return FixedClock(datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc))


def test_the_application_form_proposes_the_last_day_of_the_ended_contract(ctx, client, users, later_clock) -> None:  # type: ignore[no-untyped-def]
    ctx.clock = later_clock  # years after the only contract
    users.add("clerk1", "town_clerk", counties=("340223",))
    pages = Pages(client, users)
    pages.login("clerk1")
    assert _form_value(pages.get("/applications/new").text, "referred_on") == "2020-12-31"
    assert _form_value(pages.get("/notices/new").text, "posted_on") == "2020-12-31"
