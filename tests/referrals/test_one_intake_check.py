"""Intake and the move of a waiting case to a corrected contract ask one question of a contract
(`referrals.service.contract_problem`): the corrected contract's obstacle is the very refusal intake would give, in
the same words; and a household's group is read from the county's roster by one lookup (`roster_groups`)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from factories import new_id_number
from roster_kit import post_confirmed
from sqlalchemy import event

from verifier.contract import check_contract_text
from verifier.contract_review.service import rebind_obstacle
from verifier.domain.errors import FieldError
from verifier.referrals import service as referrals
from verifier.referrals.parsing import ReferralRow
from verifier.web import labels, stagelabels

TEXT = (Path(__file__).resolve().parents[1] / "contracts" / "disability-2020.toml").read_text("utf-8")
ON = date(2020, 5, 1)


def _contract(illness_channels: str):  # type: ignore[no-untyped-def]
    text = TEXT.replace('channels = ["medical_insurance", "civil_affairs", "application"]',
                        f"channels = {illness_channels}", 1)
    text = re.sub(r'(?m)^county_codes = .*$', 'county_codes = ["340271"]', text)
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    return contract


def _intake(contract, channel: str, cause: str, group: str) -> list[FieldError]:  # type: ignore[no-untyped-def]
    row = ReferralRow(row=2, id_number=new_id_number(), name="张三", town="城关镇", village="东村",
                      household_group=group, cause=cause, amount=3000000, referred_on=ON)
    errors: list[FieldError] = []
    referrals._bind_contracts([contract], "340271", channel, [row], ON, errors)
    return errors


@pytest.mark.parametrize(("cause", "group", "channels"), [
    ("illness", "low_income", {"application"}),  # the channel the corrected text no longer allows
    ("illness", "nobody", {"civil_affairs"}),  # a group it does not serve
    ("flood", "low_income", {"civil_affairs"}),  # a cause it does not have
    ("illness", "nobody", {"application"}),  # both: intake's order decides which is said
])
def test_the_corrected_contracts_obstacle_is_the_refusal_intake_gives(cause, group, channels) -> None:  # type: ignore[no-untyped-def]
    contract = _contract('["medical_insurance", "civil_affairs"]')
    (refused,) = _intake(contract, next(iter(channels)), cause, group)
    obstacle = rebind_obstacle(contract, cause, group, channels)
    assert obstacle is not None and (obstacle.field, obstacle.message) == (refused.field, refused.message)
    assert stagelabels.rebind_obstacle_zh(obstacle) == "更正后的" + labels.message_zh(refused.message)
    if cause == "illness" and group == "low_income":  # words the page shows: Chinese only
        said = stagelabels.rebind_obstacle_zh(obstacle).replace(contract.id, "")
        assert said and re.search(r"[a-z]{3}", said) is None, said


def test_one_allowed_channel_of_several_is_enough_and_the_refusal_names_them_all() -> None:
    contract = _contract('["medical_insurance"]')
    assert _intake(contract, "medical_insurance", "illness", "low_income") == []
    assert rebind_obstacle(contract, "illness", "low_income", {"application", "medical_insurance"}) is None
    assert rebind_obstacle(contract, "illness", "low_income", set()) is None  # no referral on record: no channel rule
    assert stagelabels.rebind_obstacle_zh(rebind_obstacle(contract, "illness", "low_income",
                                                          {"civil_affairs", "application"})) == (
        "更正后的服务合同 causes-2020 不受理来自农户申请、民政局的因病转介，可由：医保局")


def test_the_application_group_is_checked_with_one_roster_lookup(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The group a household's application names is the roster's when the county has one: the current roster is
    found once and the person looked up in it (two queries), as for a file without groups."""
    users.add("rev", "county_reviewer", counties=("340223",))
    exited = new_id_number()
    roster = f"序号,姓名,证件号码,与户主关系,监测对象类别\r\n1,人员1,{exited},户主,脱贫户\r\n".encode("gbk")
    post_confirmed(client, ctx, users.headers("rev"), roster, county="340223")
    selects: list[str] = []

    def seen(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    with ctx.db.read() as session:
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            problem = referrals.roster_group_problem(session, ctx.vault, "340223", exited, "low_income")
            asked = len(selects)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert referrals.roster_group_problem(session, ctx.vault, "340223", exited, "exited_low_standard") is None
        assert referrals.roster_group_problem(session, ctx.vault, "340299", exited, "low_income") is None
    assert problem == FieldError("household_group",
                                 "县里的防返贫监测名单上此人应为非高标准脱贫户，不是非贫低收入户：农户申请的户类型以县名单为准")
    assert asked == 2, selects


def test_the_contract_review_service_does_not_speak_for_the_pages() -> None:
    """The service answers problems and codes; the pages word them (web/stagelabels.py)."""
    import verifier.contract_review.service as review

    source = Path(review.__file__).read_text("utf-8")
    assert "web.labels" not in source and "from ..web" not in source
