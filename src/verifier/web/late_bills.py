"""补录费用票据: the check's own officers add the bills behind its rigid expenditure before the determination (the
household found its invoices after the visit). Four rows without JavaScript; blank rows are nothing; a refused bill
comes back beside its row with everything typed kept. The service is `checks.late_bills`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, URLEncodedBody
from litestar.response import Template

from ..cases.workflow import load_case
from ..checks import bills as check_bills
from ..checks import late_bills
from ..checks import service as check_service
from ..domain import backing
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..http import Ctx, get, post
from . import labels
from .common import OFFICER, FormState, Req, add_error, page, see_other
from .officer import BILL_FIELDS, _bills, bill_kinds

Id = Annotated[str, Parameter(max_length=40)]
ROWS = 4


def _render(request: Req, ctx: Any, case_id: str, state: FormState | None = None, *, status_code: int = 200,
            message: str | None = None) -> Template:
    with ctx.db.read() as session:
        case = load_case(session, case_id, request.user)
        check = check_service.latest_check(session, case.id)
        if check is None:
            raise InvalidState("案件还没有入户核查记录")
        listed = check_bills.bills_of(session, check.id)
        short = backing.shortfalls(check_service.rigid_of(check), check_bills.billed_totals(session, check.id))
        cause = check_service.cause_of(session, case)
        head = case.household.head_name
    return page(request, "check_bills.html", status_code=status_code, case=case, head=head, check=check,
                listed=listed, unbilled=[s.in_chinese() for s in short], form=state or FormState(), rows=ROWS,
                kinds=bill_kinds(cause), message=message)


class LateBillPages(Controller):
    path = "/cases/{case_id:str}/check/bills"

    @get("/", opt=OFFICER)
    def form(self, case_id: Id, ctx: Ctx, request: Req) -> Template:
        return _render(request, ctx, case_id)

    @post("/", opt=OFFICER, status_code=303)
    def add(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        state = FormState(values=values)
        known = {"bills", *(f"bills[{i}].{p}" for i in range(ROWS) for p in BILL_FIELDS)}
        problems: list[FieldError] = []
        typed, rows = _bills(values, problems)
        if not typed and not problems:
            problems.append(FieldError("bills", "请至少填写一张票据"))
        try:
            if problems:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                late_bills.add_bills(session, case_id, typed, principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            for e in exc.errors:
                field = e.field
                if field.startswith("bills[") and not problems:  # the service counts the rows it was given
                    k = int(field[6:field.index("]")])
                    field = f"bills[{rows[k]}]{field[field.index(']') + 1:]}" if k < len(rows) else "bills"
                add_error(state, FieldError(field, e.message), known, {})
            return _render(request, ctx, case_id, state, status_code=422)
        except (Forbidden, InvalidState) as exc:
            return _render(request, ctx, case_id, state, status_code=exc.status, message=labels.message_zh(exc.detail))
        return see_other(f"/cases/{case_id}", done="bills_added")
