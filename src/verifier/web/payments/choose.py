"""生成支付批次: claims chooses a new batch's cases among the county's cases ready to pay under one contract, with the
case lists' search (姓名、案件编号、身份证号后四位) and a town or village, every case shown ticked or cleared at once,
and the count and total of the chosen, read again by the server on every send (`payments.choosing`). One form: a
search, a tick-all or a refused batch keeps every choice, those not shown carried as hidden fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller
from litestar.params import Parameter, URLEncodedBody
from litestar.response import Template

from ...cases import id_search
from ...cases import numbers as case_numbers
from ...cases.listing import MAX_Q
from ...domain.errors import InvalidState, ValidationFailed
from ...http import Ctx, get, post
from ...payments import choosing
from ...payments import service as pay
from .. import stagelabels as sl
from ..common import Req, clean, folded, page, see_other
from .roles import CLAIMS

County = Annotated[str, Parameter(pattern=r"^(\d{6})?$")]
Contract = Annotated[str, Parameter(max_length=80)]
Text = Annotated[str, Parameter(max_length=200)]


def _place(value: str) -> tuple[str, str]:
    town, _, village = clean(value).partition("/")
    return town[:100], village[:100]


def _render(request: Req, ctx: Any, *, county: str, contract: str, q: str, place: str, chosen: list[str] | None,
            errors: list[str] | None = None, skipped: list[tuple[str, str]] | None = None,
            status_code: int = 200, pick_shown: bool | None = None, form_page: str | None = None) -> Template:
    """The page; `pick_shown` ticks (True) or clears (False) every case shown, the others' choice kept."""
    town, village = _place(place)
    message = None
    if len(q) > MAX_Q:
        message, q = f"搜索内容最多 {MAX_Q} 个字符", ""
    id_search.count_search(ctx.db, request.user, q, ctx.clock.now(),
                           timedelta(minutes=ctx.settings.login_window_minutes))
    with ctx.db.read() as session:
        choice = choosing.choose_cases(session, request.user, ctx.vault, county_code=county, contract_id=contract,
                                       q=q, town=town, village=village, chosen=chosen)
        if pick_shown is not None:
            shown = {c.case_id for c in choice.shown}
            picked = set(choice.chosen) - shown | (shown if pick_shown else set())
            choice = choosing.choose_cases(session, request.user, ctx.vault, county_code=county,
                                           contract_id=contract, q=q, town=town, village=village, chosen=picked)
        numbers = case_numbers.numbers_of(session, [case_id for case_id, _ in skipped or []])
    shown_ids = {c.case_id for c in choice.shown}
    picked = set(choice.chosen)
    # the chosen not shown ride as hidden fields, each with its relief (app.js adds them up with the ticks)
    return page(request, "payments_new.html", status_code=status_code, choice=choice, q=q, place=place,
                chosen=picked, hidden=[(cid, choice.chosen_relief[cid]) for cid in choice.chosen if cid not in shown_ids],
                errors=([message] if message else []) + (errors or []), skipped=skipped or [],
                numbers=numbers, **({"form_page": form_page} if form_page else {}))


class BatchChoicePages(Controller):
    path = "/payments/new"

    @get("/", opt=CLAIMS)
    def new(self, ctx: Ctx, request: Req, county_code: County = "", contract_id: Contract = "",
            place: Text = "") -> Any:
        """Every case ready is chosen at first; opened at a town or village (a link), the cases of it are. (The
        search is sent in the form's body, so that an ID number typed never goes into an address.) Opened without
        its county and contract (a bookmark, an address typed), it leads to 支付批次, where each county and contract
        has its link, rather than to an error page."""
        if not county_code or not contract_id:
            return see_other("/payments")
        if place:
            return _render(request, ctx, county=county_code, contract=contract_id, q="", place=place, chosen=[],
                           pick_shown=True)
        return _render(request, ctx, county=county_code, contract=contract_id, q="", place="", chosen=None)

    @post("/", opt=CLAIMS, status_code=303)
    def send(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """查找 / 全选显示的 / 取消显示的 re-show the form with the choices kept; 生成支付批次 makes the batch."""
        county, contract = folded(data.get("county_code")), folded(data.get("contract_id"))
        if not county.isdigit() or len(county) != 6:
            raise ValidationFailed.one("county_code", f"县（区）代码为 6 位数字，填写的是“{county}”")
        raw = data.get("case_ids")
        chosen = list(dict.fromkeys(folded(v)[:40] for v in (raw if isinstance(raw, list) else [raw] if raw else [])))
        q, place, action = folded(data.get("q"))[:200], clean(data.get("place"))[:200], clean(data.get("do"))
        keep = {"county": county, "contract": contract, "q": q, "place": place, "chosen": chosen}
        # a search or a tick-all saves nothing: in the history as the county's and contract's page (app.js), so
        # Back and Forward load it by GET; the search stays out of the address (an ID number typed)
        stands_as = "/payments/new?" + urlencode({"county_code": county, "contract_id": contract})
        if action in ("all_shown", "none_shown"):
            return _render(request, ctx, **keep, pick_shown=action == "all_shown", form_page=stands_as)
        if action != "create":
            return _render(request, ctx, **keep, form_page=stands_as)
        try:
            if not chosen:
                raise ValidationFailed.one("case_ids", "请至少选择一户待支付案件")
            with ctx.db.begin() as session:
                created = pay.create_batch(session, county_code=county, contract_id=contract or None,
                                           principal=request.user, clock=ctx.clock, case_ids=chosen)
        except ValidationFailed as exc:
            skipped = [(e.field[5:], sl.skip_reason_zh(e.message)) for e in exc.errors if e.field.startswith("case ")]
            errors = [sl.zh(e.message) for e in exc.errors if not e.field.startswith("case ")]
            return _render(request, ctx, **keep, errors=errors, skipped=skipped, status_code=422)
        except InvalidState as exc:
            return _render(request, ctx, **keep, errors=[sl.zh(exc.detail)], status_code=409)
        return see_other(f"/payments/{created.id}", done="batch")
