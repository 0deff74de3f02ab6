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
one of the groups only), a refused file's rows would tell, refused or not, the roster's group
of whole ID numbers the importer typed. Those rows' numbers are counted per importer (`FILE_ALLOWANCE`, distinct
numbers in the window) when the file is refused; past the allowance the refusal is withheld (429). Rows whose
answer is the same for every group, and files taken in (written under their import, the groups on record), count
nothing: under a contract serving both groups, a file counts nothing at all.
"""

from __future__ import annotations

from ..accounts.probes import Allowance

ALLOWANCE = Allowance("application_roster",
                      "按身份证号核对县防返贫监测名单过于频繁，请 {minutes} 分钟后再试"
                      "（每位录入人员 {window} 分钟内最多 {limit} 份申请）")

FILE_ALLOWANCE = Allowance("referral_file_roster",
                           "导入文件中按县防返贫监测名单确定户类型的身份证号过于频繁，请 {minutes} 分钟后再试"
                           "（每位导入人员 {window} 分钟内最多 {limit} 个）")
