"""The re-check after an upheld objection (异议成立), pure: who may not make it.

An objection upheld against a case on the village's notice is against the figures of its checks recorded until then.
The case is checked again, and by other eyes: none of those checks' officers, nor an account linked to one of theirs
by a password (`roster.service.password_links`: one set the other's password, or one person set both and either
still has it; the same person's second account), is an officer of the re-check, whichever visit they hold (a case
whose objection was upheld before the visit was ended still has its old one). The scheduling refuses to send them and
the planner leaves them out (`cases.service`); the check's recording refuses them (`checks.service.record_check`).
"""

from __future__ import annotations

from collections.abc import Sequence, Set

from .errors import FieldError

OBJECTED_OFFICER = "该核查员参加过异议成立的核查，重新核查须由其他核查员进行"
LINKED_OFFICER = ("该核查员的账号与参加过异议成立的核查的核查员的账号有密码关联（一方为另一方设置过密码，或由同一人设置的"
                  "密码尚未修改），重新核查须由其他核查员进行")


def refusals(officers: Sequence[str], objected: Set[str], linked: Set[str]) -> list[FieldError]:
    """The problems of a re-check's (or its visit's) officers, by position (`officers[i]`): `objected`, the officers
    of the checks an upheld objection was against; `linked`, the accounts linked by a password to one of them."""
    return [FieldError(f"officers[{i}]", OBJECTED_OFFICER if o in objected else LINKED_OFFICER)
            for i, o in enumerate(officers) if o in objected or o in linked]


def barred(objected: Set[str], linked: Set[str]) -> frozenset[str]:
    """Who may not be among the re-check's officers (the planner's exclusion)."""
    return frozenset(objected) | frozenset(linked)
