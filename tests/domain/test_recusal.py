"""回避's rules, pure: who is recused from a household, and who may confirm a removal."""

from __future__ import annotations

from verifier.domain import recusal


def test_a_person_is_recused_where_their_own_or_a_declared_relatives_index_is_a_members() -> None:
    ties = {"officer": {"b-mother", "b-self"}, "other": {"b-stranger"}, "none": set()}
    assert recusal.conflicted(ties, ["b-mother", "b-child"]) == {"officer"}
    assert recusal.conflicted(ties, ["b-self"]) == {"officer"}
    assert recusal.conflicted(ties, ["b-child"]) == frozenset()
    assert recusal.conflicted(ties, []) == frozenset()
    assert recusal.conflicted({}, ["b-mother"]) == frozenset()
    assert recusal.conflicted(ties, ["b-stranger", "b-mother"]) == {"officer", "other"}


def test_a_removal_is_confirmed_only_by_an_admin_who_neither_owns_nor_asked() -> None:
    ok = recusal.removal_problem(owner="a", requester="a", confirmer="b", confirmer_is_admin=True)
    assert ok is None
    assert "本人" in (recusal.removal_problem(owner="a", requester="a", confirmer="a", confirmer_is_admin=True) or "")
    assert "另一位管理员" in (recusal.removal_problem(owner="a", requester="b", confirmer="b",
                                                    confirmer_is_admin=True) or "")
    assert "管理员" in (recusal.removal_problem(owner="a", requester="b", confirmer="c", confirmer_is_admin=False) or "")
    assert recusal.removal_problem(owner="a", requester="b", confirmer="c", confirmer_is_admin=True) is None


def test_the_refusals_say_that_a_relation_exists_and_nothing_more() -> None:
    for message in (recusal.YOU_ARE_RECUSED, recusal.OFFICER_RECUSED, recusal.TEAM_RECUSED):
        assert recusal.REFUSED in message
        for word in recusal.RELATIONS.values():
            if word != "本人":
                assert word not in message, (word, message)
