"""The check made again by other eyes, pure: who may not make it.

Three steps send a case back to be checked again by officers other than those of the checks in doubt:

- an objection upheld against a case on the village's notice (异议成立) is against the figures of its checks recorded
  until then (`OBJECTION`);
- a check the supervisor sent back (退回重新核查) is doubted itself (`SENT_BACK`);
- a household's review request (复核申请) reopens the ineligible decision its earlier checks led to (`REVIEW`).

None of those checks' officers, nor an account linked to one of theirs by a password (`roster.service.password_links`:
one set the other's password, or one person set both and either still has it; the same person's second account), is
an officer of the check made again, whichever visit they hold (a case whose objection was upheld before the visit was
ended still has its old one). The scheduling refuses to send them and the planner leaves them out (`cases.service`);
the check's recording, a visit without a check and the evidence added to the case refuse them (`checks`). A visit one
of them holds is no visit of the check made again: it is not listed as work to do, and nothing is added to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .errors import FieldError

OBJECTION, SENT_BACK, REVIEW = "objection", "sent_back", "review"
# the strongest first: an officer of a check both objected to and sent back is told of the objection
ORDER = (OBJECTION, SENT_BACK, REVIEW)

OBJECTED_OFFICER = "该核查员参加过异议成立的核查，重新核查须由其他核查员进行"
SENT_BACK_OFFICER = "该核查员参加过被退回的核查，重新入户须由其他核查员进行"
REVIEWED_OFFICER = "该核查员参加过本案首次核查，复核须由其他核查员进行"
_LINK = "（一方为另一方设置过密码，或由同一人设置的密码尚未修改）"
LINKED_OFFICER = "该核查员的账号与参加过异议成立的核查的核查员的账号有密码关联" + _LINK + "，重新核查须由其他核查员进行"
LINKED_SENT_BACK = "该核查员的账号与参加过被退回的核查的核查员的账号有密码关联" + _LINK + "，重新入户须由其他核查员进行"
LINKED_REVIEWED = "该核查员的账号与参加过本案首次核查的核查员的账号有密码关联" + _LINK + "，复核须由其他核查员进行"

OWN = {OBJECTION: OBJECTED_OFFICER, SENT_BACK: SENT_BACK_OFFICER, REVIEW: REVIEWED_OFFICER}
LINKED = {OBJECTION: LINKED_OFFICER, SENT_BACK: LINKED_SENT_BACK, REVIEW: LINKED_REVIEWED}

# An officer of the checks in doubt (or a linked account) on a visit he still holds: he neither visits, nor records,
# nor adds evidence (photos, scans) to the case; his partner on that visit is told it ended.
OWN_STALE = ("您参加过本案须由其他核查员重新核查的核查，不能再为本案入户、录入核查结果或上传证明材料；"
             "重新核查由主管另派的核查员进行")
LINKED_STALE = ("您的账号与参加过本案须由其他核查员重新核查的核查的核查员的账号有密码关联" + _LINK
                + "，不能为本案入户、录入核查结果或上传证明材料；重新核查由主管另派的核查员进行")
VISIT_ENDED = "这次走访已失效：同组核查员不能参加本案的重新核查，请等待主管重新安排"

def strongest(whys: Iterable[str]) -> str:
    """Of the reasons an officer is barred for, the one he is told."""
    found = set(whys)
    return next(w for w in ORDER if w in found)


def refusals(officers: Sequence[str], barred: Mapping[str, str], linked: Mapping[str, str]) -> list[FieldError]:
    """The problems of the officers of a check made again (or of its visit), by position (`officers[i]`): `barred`,
    the officers of the checks in doubt, each with why (`OBJECTION`, `SENT_BACK`, `REVIEW`); `linked`, the accounts
    linked by a password to one of them, with that officer's why."""
    return [FieldError(f"officers[{i}]", OWN[barred[o]] if o in barred else LINKED[linked[o]])
            for i, o in enumerate(officers) if o in barred or o in linked]


def barred(own: Iterable[str], linked: Iterable[str]) -> frozenset[str]:
    """Who may not be among the officers of the check made again (the planner's exclusion)."""
    return frozenset(own) | frozenset(linked)
