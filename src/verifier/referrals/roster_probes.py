"""A limit on the applications whose household group is compared with the county's roster, per clerk.

Where the county's roster is in force, an application naming another group than the roster's for the applicant is
refused naming the roster's, with the form's other problems, and a refused application writes nothing. So a clerk
could post applications for any number, made to fail on purpose, and read whether that person is registered as having
left poverty (and, for a number shown masked, which candidate is the person). Each such comparison is counted per
clerk (`accounts/probes.py`), whether the application is then taken or refused, once per number in the window (an
application sent again after a refusal spends nothing more); past the allowance (`accounts.probes.Limit`)
the application is refused (429) before the roster is read. Without a roster in force nothing is compared or counted.
"""

from __future__ import annotations

from ..accounts.probes import Allowance

ALLOWANCE = Allowance("application_roster",
                      "按身份证号核对县防返贫监测名单过于频繁，请 {minutes} 分钟后再试"
                      "（每位录入人员 {window} 分钟内最多 {limit} 份申请）")
