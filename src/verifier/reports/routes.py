"""HTTP routes of the reports: the monthly county report as JSON or as a spreadsheet."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response
from litestar.params import FromQuery, Parameter

from ..accounts.auth import Principal
from ..domain.errors import ValidationFailed
from ..http import Ctx, get
from . import service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READERS = ("county_reviewer", "auditor", "insurer_supervisor", "finance")


class ReportController(Controller):
    path = "/api/reports"
    tags = ["reports"]

    @get("/monthly", opt={"roles": READERS})
    def monthly(
        self, ctx: Ctx, request: Request[Principal, Any, Any],
        month: Annotated[str, Parameter(pattern=r"^\d{4}-\d{2}$")],
        county_code: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "",
        county: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "",
        format: FromQuery[Literal["json", "xlsx"]] = "json",
    ) -> Response[Any]:
        """The month's report (`county_code`, or `county` for short): every figure 本月 and 累计, the breakdowns."""
        code = county_code or county
        if not code:
            raise ValidationFailed.one("county_code", "必填：县（区）的六位代码")
        with ctx.db.read() as session:
            report = service.monthly(session, request.user, code, month)
        if format == "xlsx":
            from ..web.report_sheet import monthly_attachment, monthly_xlsx  # the pages' words (web/labels.py)

            return Response(monthly_xlsx(report), media_type=XLSX, headers=monthly_attachment(report))
        return Response(report)


ROUTES: list[Any] = [ReportController]
