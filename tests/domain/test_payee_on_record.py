"""The door's payee rule: a member the household had before the check, under the name it had."""

from __future__ import annotations

from verifier.domain.payee import (NEW_AT_THE_DOOR, NOT_THE_REFERRED_AT_THE_DOOR, NOT_YET_ON_RECORD_AT_THE_DOOR,
                                   RENAMED_AT_THE_DOOR, Payee, on_record_problems)


def _said(name: str, members: list, had_members: bool = True, head: str = "张三") -> list[str]:  # type: ignore[type-arg]
    payee = Payee(name, "农村商业银行", "6222020200112233445")
    return [f"{p.field}: {p.message}" for p in on_record_problems(payee, members, had_members=had_members,
                                                                   head_on_record=head)]


def test_a_member_on_record_under_the_name_it_had_is_taken() -> None:
    assert _said("张三", [("张三", "张三"), ("赵核查", None)]) == []
    assert _said("张 三", [("张三", "张 三")]) == []  # spaces aside, as on a bank card
    assert _said("李四", [("张三", "张三"), ("李四", "李四")]) == []


def test_a_new_or_renamed_member_is_refused_saying_which() -> None:
    assert _said("赵核查", [("张三", "张三"), ("赵核查", None)]) == [f"payee.account_name: {NEW_AT_THE_DOOR}"]
    assert _said("钱同伙", [("钱同伙", "张三")]) == [f"payee.account_name: {RENAMED_AT_THE_DOOR}"]
    # a made-up member sharing the renamed name: still not a name the household had
    assert _said("钱同伙", [("钱同伙", "张三"), ("钱同伙", None)]) == [f"payee.account_name: {RENAMED_AT_THE_DOOR}"]
    # the same name kept by a member on record: that member is the payee
    assert _said("张三", [("张三", None), ("张三", "张三")]) == []
    for message in (NEW_AT_THE_DOOR, RENAMED_AT_THE_DOOR, NOT_THE_REFERRED_AT_THE_DOOR, NOT_YET_ON_RECORD_AT_THE_DOOR):
        assert "收款人变更" in message and "县级审核人员" in message


def test_a_household_with_no_member_on_record_takes_its_referred_head_only() -> None:
    assert _said("张三", [("张三", None), ("孙新增", None)], had_members=False) == []
    assert _said("孙新增", [("张三", None), ("孙新增", None)], had_members=False) == [
        f"payee.account_name: {NOT_THE_REFERRED_AT_THE_DOOR}"]


def test_no_payee_or_a_name_outside_the_check_is_left_to_the_other_rules() -> None:
    assert on_record_problems(None, [("张三", None)], had_members=True, head_on_record="张三") == []
    assert _said("李代收", [("张三", "张三")]) == []  # `door_problems` refuses it


def test_a_name_an_earlier_check_typed_is_taken_once_on_record() -> None:
    """A stored name an earlier check added or changed (`checks.on_record`), not yet on record: refused saying so;
    the same person under a name on record, or another member on record of that name, is taken."""
    assert _said("赵核查", [("张三", "张三", True), ("赵核查", "赵核查", False)]) == [
        f"payee.account_name: {NOT_YET_ON_RECORD_AT_THE_DOOR}"]
    assert _said("赵核查", [("赵核查", "赵核查", True)]) == []
    assert _said("张三", [("张三", "张三", False), ("张三", "张三", True)]) == []
    # renamed at this check as well: the rename is what is said
    assert _said("钱同伙", [("钱同伙", "赵核查", False)]) == [f"payee.account_name: {RENAMED_AT_THE_DOOR}"]
