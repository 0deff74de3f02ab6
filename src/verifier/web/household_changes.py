"""The supervisor's household pages, reached from a case: 合并家庭 (merge another household into this one, or this one
into it) and 迁移成员 (move a member to another household, or to a new one: 分户). The other household is found by
a case number or a name. Either form submits a proposal another person confirms (its page:
`web/household_proposals.py`). The rules are the households service's: the pages offer the forms, the service decides.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..households import service as households
from ..http import Ctx, get, post
from . import labels
from .common import SUPERVISOR, FormState, Req, clean, confirmed, form_state, page, see_other

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]*$")]
Query = Annotated[str, Parameter(max_length=50)]
MERGE_FIELDS = ("other", "keep", "head_relation", "reason", "confirm")
MOVE_FIELDS = ("member", "to", "relation", "new_head", "reason")
RELATIONS = [(r, labels.RELATIONS[r]) for r in households.RELATIONS]


def _render(request: Req, ctx: Any, template: str, household_id: str, *, q: str = "", other: str = "",
            case: str = "", state: FormState | None = None, status_code: int = 200, message: str | None = None
            ) -> Template:
    user = request.user
    with ctx.db.read() as session:
        home = households.household_brief(session, ctx.vault, household_id, user)
        found = households.find_households(session, ctx.vault, user, q, county_code=home.county_code,
                                           exclude=home.id) if q else []
        chosen = None
        if other and other != home.id:
            try:
                chosen = households.household_brief(session, ctx.vault, other, user)
            except NotFound:
                chosen = None
            if chosen is not None and chosen.county_code != home.county_code:
                chosen = None
        history = households.household_changes(session, home.id)
    if chosen is not None and all(h.id != chosen.id for h in found):
        found = [chosen, *found]
    state = state or FormState(values={"other": chosen.id if chosen else "", "keep": "this",
                                       "head_relation": "spouse", "relation": "spouse"})
    return page(request, template, status_code=status_code, home=home, found=found, q=q, case=case, form=state,
                message=message, relations=RELATIONS, history=history, searched=bool(q))


def _refused(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, (InvalidState, Forbidden, NotFound)):
        return exc.status, labels.message_zh(exc.detail)
    return 422, "提交的内容有误。"


class HouseholdChangePages(Controller):
    path = "/households/{household_id:str}"

    @get("/merge", opt=SUPERVISOR)
    def merge_form(self, household_id: Id, ctx: Ctx, request: Req, q: Query = "", other: Id = "",
                   case: Id = "") -> Template:
        return _render(request, ctx, "household_merge.html", household_id, q=q.strip(), other=other, case=case)

    @post("/merge", opt=SUPERVISOR, status_code=303)
    def merge(self, household_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        other, keep, case = clean(data.get("other")), clean(data.get("keep")), clean(data.get("case"))
        q = clean(data.get("q"))[:50]  # the search the form was found by: a refusal shows its households again
        into, absorbed = (household_id, other) if keep != "other" else (other, household_id)
        try:
            problems = []  # every missing choice at once, before the households service is asked
            if not other:
                problems.append(FieldError("other", "请先查找并选择另一户"))
            if not clean(data.get("reason")):
                problems.append(FieldError("reason", "必填：请说明合并原因"))
            if not confirmed(data):
                problems.append(FieldError("confirm", "合并后不能撤销：请勾选确认"))
            if problems:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                proposal = households.propose_merge(session, into, absorbed, reason=clean(data.get("reason")),
                                                    head_relation=clean(data.get("head_relation")) or "other",
                                                    principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            rename = {"from_household_id": "other", "household_id": "other"}
            return _render(request, ctx, "household_merge.html", household_id, q=q, other=other, case=case,
                           state=form_state(data, exc, MERGE_FIELDS, rename), status_code=422)
        except (InvalidState, Forbidden, NotFound) as exc:
            status, message = _refused(exc)
            return _render(request, ctx, "household_merge.html", household_id, q=q, other=other, case=case,
                           state=form_state(data, None, MERGE_FIELDS), status_code=status, message=message)
        return see_other(f"/household-proposals/{proposal.id}", done="household_merge_proposed", case=case or None)

    @get("/move", opt=SUPERVISOR)
    def move_form(self, household_id: Id, ctx: Ctx, request: Req, q: Query = "", other: Id = "",
                  case: Id = "") -> Template:
        return _render(request, ctx, "household_move.html", household_id, q=q.strip(), other=other, case=case)

    @post("/move", opt=SUPERVISOR, status_code=303)
    def move(self, household_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        to, case = clean(data.get("to")), clean(data.get("case"))
        q = clean(data.get("q"))[:50]
        try:
            problems = []
            if not clean(data.get("member")):
                problems.append(FieldError("member", "请选择要迁出的成员"))
            if not to:
                problems.append(FieldError("to", "请选择迁入的家庭，或选择“新立一户（分户）”"))
            if problems:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                proposal = households.propose_move(
                    session, household_id, clean(data.get("member")), to_household_id=None if to == "new" else to,
                    new_household=to == "new", relation=clean(data.get("relation")) or "other",
                    new_head_member_id=clean(data.get("new_head")) or None, reason=clean(data.get("reason")),
                    principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            rename = {"to_household_id": "to", "new_head_member_id": "new_head", "member_id": "member"}
            return _render(request, ctx, "household_move.html", household_id, q=q, other=to if to != "new" else "",
                           case=case, state=form_state(data, exc, MOVE_FIELDS, rename), status_code=422)
        except (InvalidState, Forbidden, NotFound) as exc:
            status, message = _refused(exc)
            return _render(request, ctx, "household_move.html", household_id, q=q, other=to if to != "new" else "",
                           case=case, state=form_state(data, None, MOVE_FIELDS), status_code=status,
                           message=message)
        return see_other(f"/household-proposals/{proposal.id}", done="member_move_proposed", case=case or None)
