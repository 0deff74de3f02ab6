"""Limits on the comparisons of whole ID numbers with the county's roster: an application's group, per clerk; the
rows of a bureau's file that take their group from it, per importer.

Where the county's roster is in force, an application naming another group than the roster's for the applicant is
refused naming the roster's, with the form's other problems, and a refused application writes nothing. So a clerk
could post applications for any number, made to fail on purpose, and read whether that person is registered as having
left poverty (and, for a number shown masked, which candidate is the person). Each such comparison is counted per
clerk (`accounts/probes.py`), whether the application is then taken or refused, once per number in the window (an
application sent again after a refusal spends nothing more); past the allowance (`accounts.probes.Limit`)
the application is refused (429) before the roster is read. Without a roster in force nothing is compared or counted.

A bureau's file without household groups takes each row's from the roster (referrals/service.py), and its rows are
then checked against the contract: where the contract's answer for a row depends on the group (a contract serving
one of the groups only), a refused file's rows would tell, refused or not, the roster's group of whole ID numbers the
importer typed. Those rows (`RosterRows`) are answered per importer, distinct numbers in the window
(`FILE_ALLOWANCE`), when the file is refused (`answer`): the numbers counted in the window already, then new ones in
the file's order while the allowance lasts, are answered as any row (and counted); past it a row is still named, but
as 需核对 (`WITHHELD`), whether the contract takes it or not, so that the answer says nothing of the roster; the file's
other errors are said in full. A large file sent in good faith thus always gets every row's problem back, and a
prober learns no more groups than the allowance. The contract's problems with those rows are held apart from the
file's other errors while it is read (`RosterRows.problems`), so that nothing else said (the list's cut at its
length, say) depends on the roster's answers. Each such refusal is on record (`ACTION`: the file's digest, rows
compared and withheld, numbers counted; never a number). Rows whose answer is the same for every group, and files
taken in (written under their import, the groups on record), count nothing: under a contract serving both groups, a
file counts nothing at all.

A file's row that gives a group is compared with the roster in force (referrals/service.py `roster_disagrees`: a
person on it must have the roster's group), and a refusal naming the roster's group tells it just as well: such rows
(`RosterRows.given`) are among the rows answered per importer, past the allowance named 需核对 in their own words
(`WITHHELD_GIVEN`, the roster's group unsaid). A file refused for other errors too has those rows told to correct
the others first (`WITHHELD_OTHERS`, `WITHHELD_GIVEN_OTHERS`): a bureau's file otherwise good is then taken in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..accounts.probes import Allowance, Limit
from ..audit import log as audit
from ..domain.errors import FieldError

ALLOWANCE = Allowance("application_roster",
                      "按身份证号核对县防返贫监测名单过于频繁，请 {minutes} 分钟后再试"
                      "（每位录入人员 {window} 分钟内最多 {limit} 份申请）")

FILE_ALLOWANCE = Allowance("referral_file_roster",
                           "导入文件中按县防返贫监测名单确定户类型的身份证号过于频繁，请 {minutes} 分钟后再试"
                           "（每位导入人员 {window} 分钟内最多 {limit} 个）")

ACTION = "referrals.import_refused_roster"  # a refused file's rows compared with the roster, or withheld

WITHHELD = ("需核对：本行户类型取自县防返贫监测名单，您 {window} 分钟内按名单核对的身份证号已达 {limit} 个，"
            "本行是否符合服务合同暂不显示；请在文件的「户类型」列填写本行户类型后重新导入，或过一段时间再导入")

WITHHELD_GIVEN = ("需核对：本行户类型须与县防返贫监测名单一致，您 {window} 分钟内按名单核对的身份证号已达 {limit} 个，"
                  "本行户类型与名单是否一致暂不显示；请过一段时间再导入，或将本行「户类型」留空（由县名单确定）后重新导入")

# The same rows when the file has other errors too (`RosterRows.others`): it is refused for those whatever the
# roster says, so the importer is told to correct them; a file otherwise good is taken in. Whatever the row's answer.
WITHHELD_OTHERS = ("需核对：本行户类型取自县防返贫监测名单，您 {window} 分钟内按名单核对的身份证号已达 {limit} 个，"
                   "本行是否符合服务合同暂不显示；请先改正文件中其他各行的错误后重新导入，其他方面无误的文件即可导入")

WITHHELD_GIVEN_OTHERS = ("需核对：本行户类型须与县防返贫监测名单一致，您 {window} 分钟内按名单核对的身份证号已达 {limit} 个，"
                         "本行户类型与名单是否一致暂不显示；请先改正文件中其他各行的错误后重新导入，其他方面无误的文件"
                         "即可导入")


@dataclass
class RosterRows:
    """A bureau's file's rows whose answer the roster's group decides, as it is read (`referrals.service.check_file`):
    each one's row and its number's blind index, in the file's order, and the contract's problems with them, held
    apart from the file's `others` (its other errors, set once it is refused)."""

    sha256: str = ""
    rows: list[tuple[int | None, str]] = field(default_factory=list)
    problems: list[FieldError] = field(default_factory=list)
    given: set[int | None] = field(default_factory=set)  # of `rows`, those whose file gives a group (compared with it)
    others: list[FieldError] = field(default_factory=list)
    refused: bool = False  # refused for its rows' errors (`others`, `problems`), not for a problem of the whole


def answer(session: Session, rows: RosterRows, *, principal: Any, role: str, county_code: str, channel: str,
           now: datetime, limit: Limit, clock: Any) -> list[FieldError]:
    """A refused file's errors (sorted by row): its `others`, and for the rows whose answer the roster decides the
    contract's problems while the importer's allowance lasts (`FILE_ALLOWANCE.share`, counted in `session`), past it
    `WITHHELD` for each, whatever its answer. On record in `session` (`ACTION`)."""
    answered, counted = FILE_ALLOWANCE.share(session, principal.id, (key for _, key in rows.rows), now, limit)
    held = {row for row, key in rows.rows if key not in answered}
    window = max(1, int(limit.window.total_seconds() // 60))
    # the file refused for other errors too: correct those first (`WITHHELD_OTHERS`), said whatever the roster's answer
    words = (WITHHELD_OTHERS if rows.others else WITHHELD).format(window=window, limit=limit.per_window)
    given_words = (WITHHELD_GIVEN_OTHERS if rows.others else WITHHELD_GIVEN).format(window=window,
                                                                                    limit=limit.per_window)
    errors = list(rows.others) + [e for e in rows.problems if e.row not in held]
    errors += [FieldError("household_group", given_words if row in rows.given else words, row)
               for row in sorted(held, key=lambda r: r or 0)]
    audit.append(session, actor=principal.id, role=role, action=ACTION, subject=f"file:{rows.sha256}",
                 payload={"county_code": county_code, "channel": channel, "file_sha256": rows.sha256,
                          "rows_compared": len(rows.rows) - sum(row in held for row, _ in rows.rows),
                          "rows_withheld": sum(row in held for row, _ in rows.rows), "numbers_counted": counted},
                 county_code=county_code, clock=clock)
    return sorted(errors, key=lambda e: (e.row or 0, e.field))
