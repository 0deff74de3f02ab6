"""HTTP routes of the reports: the monthly county report as JSON or as a spreadsheet."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response
from litestar.params import FromQuery, Parameter

from ..accounts.auth import Principal
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
        county_code: Annotated[str, Parameter(pattern=r"^\d{6}$")],
        month: Annotated[str, Parameter(pattern=r"^\d{4}-\d{2}$")],
        format: FromQuery[Literal["json", "xlsx"]] = "json",
    ) -> Response[Any]:
        with ctx.db.read() as session:
            report = service.monthly(session, request.user, county_code, month)
        if format == "xlsx":
            filename = f"report-{county_code}-{report['month']}.xlsx"
            return Response(service.monthly_xlsx(report), media_type=XLSX,
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        return Response(report)


ROUTES: list[Any] = [ReportController]
