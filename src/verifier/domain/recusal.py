"""回避 (conflict-of-interest recusal): the rules, pure.

A staff account carries its own ID number (本人) and those of close relatives, each as a keyed blind index (the
same index a household member's ID number has, `Vault.blind_index(…, "id_number")`). A person who is a member of a
household, or a declared relative of one of its members, takes no part in that household's case: they are not sent
to visit it, record no check of it, confirm no determination, approve no payee change and approve or release no
batch paying it. The refusal never says which member nor how they are related.

A declaration only grows by its owner's hand (or an admin's, for them); an entry is removed only when an admin other
than its owner, and other than whoever asked for the removal, confirms it (four eyes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

RELATIONS = {
    "self": "本人",
    "spouse": "配偶",
    "parent": "父母",
    "child": "子女",
    "sibling": "兄弟姐妹",
    "grandparent": "祖父母、外祖父母",
    "grandchild": "孙子女、外孙子女",
    "in_law": "配偶的父母、子女的配偶",
    "other": "其他近亲属或利害关系人",
}
"""The relations a declaration names (code → what the pages and the audit call it)."""

REFUSED = "与本户成员存在回避关系"
"""The words every refusal carries: the relation exists, nothing more (which member, which relation is not said)."""

YOU_ARE_RECUSED = f"回避：您{REFUSED}（本人或申报的近亲属），不能办理本户的此项业务，请交由其他人员办理"
OFFICER_RECUSED = f"该核查员{REFUSED}，不能走访或核查本户：请选择其他核查员"
TEAM_RECUSED = f"回避：本次走访的核查员中有人{REFUSED}，不能由其录入本户的核查：请由主管改派其他核查员"
NOTICE_RECUSED = (f"回避：该公示中有农户的家庭成员与您存在回避关系（{REFUSED}），该公示的这一步（上传张贴照片、结束公示）"
                  "须由其他人员办理")
MAX_ENTRIES = 50
"""At most this many live entries per account (a declaration is a person's family, not a list of a village)."""


def conflicted(ties: Mapping[str, Iterable[str]], household_index: Iterable[str]) -> frozenset[str]:
    """The staff (ids of `ties`: user → the blind indexes of their own and their relatives' ID numbers) who are a
    member of the household, or a declared relative of one, whose members' blind indexes are `household_index`."""
    members = set(household_index)
    return frozenset(user for user, indexes in ties.items() if members.intersection(indexes))


def removal_problem(*, owner: str, requester: str, confirmer: str, confirmer_is_admin: bool) -> str | None:
    """Why `confirmer` may not confirm the removal of one of `owner`'s entries that `requester` asked for, or None.

    Four eyes: never the owner (who would shrink their own declaration alone), never whoever asked (an admin asking
    and confirming alone), and only an admin."""
    if not confirmer_is_admin:
        return "只有管理员可以确认删除回避申报"
    if confirmer == owner:
        return "不能确认删除本人的回避申报：须由本人以外的管理员确认"
    if confirmer == requester:
        return "提出删除的人不能自己确认：须由另一位管理员确认"
    return None
