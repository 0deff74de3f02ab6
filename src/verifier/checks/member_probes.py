"""A limit on the ID numbers a field officer's checks name that their households do not already hold.

A check naming a person recorded in another household is refused (此人已登记在其他家庭; another county's, neutrally),
and a refused check writes nothing. So the officer sent to one household could post checks naming every candidate of
a masked number (made to fail on purpose) and read which was "in another household": the whole number. Each number
a check names that is not a member of the case's household is counted per officer (`accounts/probes.py`), whether
the check is recorded or refused, once in the window (a check sent again with the same numbers, after an honest
refusal, spends nothing more); a check that would go past the allowance (`accounts.probes.Limit`) is refused whole (429)
before anything is compared. The household's own members count nothing: a first check names the household's other
members (a referral brings its applicant only), a few a visit.
"""

from __future__ import annotations

from ..accounts.probes import Allowance, TooManyLookups

ALLOWANCE = Allowance("check_member",
                      "核查中登记本户原有成员以外的身份证号过于频繁，请 {minutes} 分钟后再试"
                      "（每位核查员 {window} 分钟内最多 {limit} 个）")
TooManyNewMembers = TooManyLookups
