"""The contracts page: what each contract of the reader's counties prices, and a county reviewer's acceptance or
refusal of one still pending (contract_review/service.py). A pending contract prices nothing."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, URLEncodedBody
from litestar.response import Template

from ..contract_review import service
from ..domain.errors import Forbidden, InvalidState, ValidationFailed
from ..http import Ctx, get, post
from .common import FormState, Req, confirmed, form_state, page, see_other

READERS: dict[str, Any] = {"roles": ("county_reviewer", "admin", "auditor", "insurer_supervisor")}
REVIEWERS: dict[str, Any] = {"roles": (service.REVIEWER,)}
Id = Annotated[str, Parameter(max_length=64)]
REFUSE_UNCONFIRMED = "拒绝后合同不会生效，也不能改为确认：请先勾选确认框。"


class ContractPages(Controller):
    path = "/contracts"

    @get("/", opt=READERS)
    def listing(self, ctx: Ctx, request: Req) -> Template:
        with ctx.db.read() as session:
            rows = service.list_contracts(session, request.user)
        return page(request, "contracts.html", rows=rows)

    @get("/{contract_id:str}", opt=READERS)
    def one(self, contract_id: Id, ctx: Ctx, request: Req) -> Template:
        return self._page(ctx, request, contract_id, FormState())

    @post("/{contract_id:str}/accept", opt=REVIEWERS, status_code=303)
    def accept(self, contract_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        if not confirmed(data):
            form = FormState()
            form.general.append("确认服务合同后不能撤回：请先勾选确认框，再点击按钮。本次未做任何更改。")
            return self._page(ctx, request, contract_id, form, status_code=422)
        raw = data.get("county_codes")
        chosen = ([] if data.get("counties_shown") else None) if raw is None else [str(v)[:6] for v in (raw if isinstance(raw, list) else [raw]) if v]
        try:
            with ctx.db.begin() as session:
                service.accept(session, contract_id, principal=request.user, clock=ctx.clock, county_codes=chosen)
        except ValidationFailed as exc:
            form = FormState()
            form.general.extend(e.message for e in exc.errors)
            return self._page(ctx, request, contract_id, form, status_code=422)
        except (InvalidState, Forbidden) as exc:
            form = FormState()
            form.general.append(exc.detail)
            return self._page(ctx, request, contract_id, form, status_code=exc.status)
        return see_other(f"/contracts/{contract_id}", done="contract_accepted")

    @post("/{contract_id:str}/refuse", opt=REVIEWERS, status_code=303)
    def refuse(self, contract_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        reason = str(data.get("reason") or "").strip()
        form = FormState(values={"reason": reason})
        ticked = confirmed(data)
        try:
            if ticked:
                with ctx.db.begin() as session:
                    service.refuse(session, contract_id, principal=request.user, reason=reason, clock=ctx.clock)
            else:
                service.refusal_reason(reason)  # what is wrong with the reason is told with the box's message
        except ValidationFailed as exc:
            form = form_state(form.values, exc, fields=("reason",))
        except (InvalidState, Forbidden) as exc:
            form.general.append(exc.detail)
            return self._page(ctx, request, contract_id, form, status_code=exc.status)
        if not ticked:
            form.add("confirm", REFUSE_UNCONFIRMED)
        if form.failed:
            return self._page(ctx, request, contract_id, form, status_code=422)
        return see_other(f"/contracts/{contract_id}", done="contract_refused")

    def _page(self, ctx: Ctx, request: Req, contract_id: str, form: FormState, status_code: int = 200) -> Template:
        with ctx.db.read() as session:
            review = service.get_review(session, contract_id, request.user)
        return page(request, "contract.html", status_code=status_code, c=review, form=form)
