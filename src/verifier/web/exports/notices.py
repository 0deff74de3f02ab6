"""The notices workbook: the notices with their households, as posted."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...accounts.auth import Principal
from ...documents.sheets import Money, Sheet, workbook
from ...notices import service as notice_service
from .. import labels
from ..common import user_names
from .rows import MAX_ROWS


def notices_xlsx(session: Session, user: Principal, *, status: str | None = None,
                 county_code: str | None = None, q: str = "", unconfirmed: bool = False,
                 only: list[str] | None = None) -> bytes:
    """Sheet 公示: one row a notice; sheet 公示名单: one row a household, as the notice showed it. The notices are
    the list's (`/notices`): its status, its search and 张贴待第二人确认 (of all, or those the user may confirm,
    `only`), all its pages."""
    notices = notice_service.list_notices(session, user, status=status or None, county_code=county_code or None,
                                          q=q, unconfirmed=unconfirmed, only=only, limit=MAX_ROWS)
    names = user_names(session, [n.posted_by for n in notices])
    notice_rows = [[n.number or "", n.title, n.county_name, n.town, n.village or "（全镇）", n.posted_on, n.ends_on,
                    labels.NOTICE_STATUS.get(n.status, n.status), n.households, n.persons, Money(n.total),
                    names.get(n.posted_by, n.posted_by), n.id] for n in notices]
    item_rows = [[n.title, n.town, item.village, item.seq, item.head_name, item.household_size,
                  labels.CAUSES.get(item.cause, item.cause), Money(item.relief_amount),
                  labels.ITEM_STATUS.get(item.status, item.status), item.case_id]
                 for n in notices for item in n.items]
    return workbook(
        Sheet("公示", ["文号", "公示标题", "县（区）", "乡镇", "村", "公示日期", "截止日期", "状态", "户数", "人数",
                       "救助金额合计（元）", "发布人", "公示编号"], notice_rows, (14, 40, 10, 10, 10, 12, 12, 8, 6, 6, 16, 10, 18)),
        Sheet("公示名单", ["公示标题", "乡镇", "村", "序号", "户主", "家庭人口", "致困原因", "救助金额（元）", "公示结果",
                          "案件"], item_rows, (40, 10, 10, 6, 10, 8, 10, 14, 16, 18)),
    )
