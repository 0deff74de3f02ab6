"""One batch's page: its steps, the actions the user may take now (and, when an expected one is missing, why), its
items (and those whose payee was changed), its bank returns."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar.response import Template

from ...accounts.auth import Principal
from ...cases import numbers as case_numbers
from ...cases import service as case_service
from ...domain.errors import FieldError
from ...domain.money import parse_yuan
from ...payments import account_setters, batch_list, batch_recheck, batch_stops, deciders, payees
from ...payments import service as pay
from ...payments.schemas import BatchOut, ChangedPayeeOut
from ...roster.service import PASSWORD_LINK
from ...contract_review import reads as contract_reads
from ...store.paged import fold_search
from .. import paging
from .. import stagelabels as sl
from ..common import Req, numbered, page, user_names
from ..paging import Pager, page_param
from ..templating import yuan
from .roles import PAYEE_EDITORS


def _steps(b: BatchOut) -> list[dict[str, Any]]:
    steps = [{"label": "制单", "by": b.prepared_by, "at": b.prepared_at, "done": True}]
    steps.append({"label": "财务审批", "by": b.approved_by, "at": b.approved_at, "done": b.approved_at is not None})
    if b.signoff_required or b.signed_off_at is not None:
        steps.append({"label": "县级签批", "by": b.signed_off_by, "at": b.signed_off_at,
                      "done": b.signed_off_at is not None})
    steps.append({"label": "发放（生成银行文件）", "by": b.released_by, "at": b.released_at,
                  "done": b.released_at is not None})
    steps.append({"label": "对账完成", "by": None, "at": b.reconciled_at, "done": b.reconciled_at is not None})
    if b.cancelled_at is not None:
        steps.append({"label": "撤销", "by": b.cancelled_by, "at": b.cancelled_at, "done": True})
    return steps


def _actions(b: BatchOut, user: Principal, changed: list[ChangedPayeeOut],
             numbers: dict[str, str], took_file: bool = False,
             linked_return: str | None = None,
             set_by: account_setters.Hand | None = None) -> tuple[dict[str, bool], list[str]]:
    """What the user may do with the batch now, and notes on what they may not (and what the batch waits for); a
    case is named by its number (`numbers`), as its row shows it. `linked_return`: why the user may not import the
    bank return through an account linked by a password (`payments.bank.linked_importer`), said instead of the form.
    `set_by`: the user's hand in an account the batch pays (`account_setters.hand`, the rule the steps refuse by):
    their own part in the check that set it, or a password link to one who had a part."""
    st = b.status
    acts = dict.fromkeys(("approve", "signoff", "release", "cancel", "bank_file", "bank_return", "remove"), False)
    acts["remove"] = st == "prepared" and user.has("insurer_claims") and b.item_count > 1
    notes: list[str] = []
    mine = next((c for c in changed if user.id in (c.requested_by, c.approved_by)), None)
    if mine is not None and st in ("prepared", "approved", "signed_off") and user.has("finance"):
        if mine.source == "check":
            did = "登记" if user.id == mine.requested_by else "确认"
            what = "重新核查（其登记的收款人与首次记录的不同）"
        else:
            did, what = ("申请" if user.id == mine.requested_by else "批准"), "收款人变更"
        notes.append(f"您{did}了本批次中案件 {numbers.get(mine.case_id, mine.case_id)} 的{what}：按职责分离规定，不能审批或发放本批次，"
                     "须由其他财务人员办理。")
    elif set_by is not None and st in ("prepared", "approved", "signed_off") and user.has("finance", "county_reviewer"):
        s = set_by.setter
        notes.append((f"按“四眼原则”，您的账号与本批次中案件 {numbers.get(s.case_id, s.case_id)} 入户核查的{s.part}的账号有"
                      f"密码关联{PASSWORD_LINK}，该案的收款账户由这次核查录入" if set_by.linked else
                      f"您是本批次中案件 {numbers.get(s.case_id, s.case_id)} 入户核查的{s.part}，该案的收款账户由这次核查录入")
                     + "：按职责分离规定，不能审批、签批或发放本批次，须由其他人员办理。")
    barred = mine is not None or set_by is not None
    if st == "prepared":
        if user.has("finance") and user.id == b.prepared_by:
            notes.append("您是本批次的制单人：按“四眼原则”，不能审批自己制作的批次，须由另一名财务人员审批。")
        elif user.has("finance") and not barred:
            acts["approve"] = True
        else:
            notes.append("下一步：财务人员审批（制单人、录入或变更所付收款账户的人员以外的财务人员）。")
    if st == "approved" and b.signoff_required:
        threshold = (f"本批次中有案件（{'、'.join(numbers.get(c, c) for c in b.signoff_refused_cases)}）曾列入县级审核人员"
                     "不同意签批的批次，此后未经县级签批" if b.signoff_refused_cases else
                     f"本批次金额 {yuan(b.total)} 元，达到合同规定的县级签批金额 {yuan(b.signoff_threshold)} 元"
                     if not _split(b) else f"本批次与上次县级签批以来其他未经县级签批的批次合计达到合同规定的县级签批金额 "
                                           f"{yuan(b.signoff_threshold)} 元")
        if user.has("county_reviewer") and user.id in (b.prepared_by, b.approved_by):
            notes.append("您参与了本批次的制单或审批：按“四眼原则”，县级签批须由其他县级审核人员办理。")
        elif user.has("county_reviewer") and set_by is None:
            acts["signoff"] = True
        elif user.has("county_reviewer"):
            pass  # said above
        else:
            notes.append(f"{threshold}：须经县级审核人员签批后方可发放。")
    if st == "signed_off" or (st == "approved" and not b.signoff_required):
        if user.has("finance") and not barred:
            acts["release"] = True
        elif user.has("finance"):
            pass  # said above
        else:
            notes.append("下一步：财务人员发放，生成银行文件。")
    if st in ("prepared", "approved", "signed_off"):
        acts["cancel"] = user.has("insurer_claims", "finance")
        if user.has("finance"):
            notes.append("批次发放后方可下载银行文件、导入银行回单。")
    if st in ("released", "reconciled"):
        if user.has("finance"):
            acts["bank_file"] = True
            acts["bank_return"] = (st == "released" and user.id != b.released_by and not took_file
                                   and not linked_return)
            if st == "released" and user.id == b.released_by:
                notes.append("您发放了本批次：按“四眼原则”，银行回单须由另一名财务人员导入。")
            elif st == "released" and took_file:
                notes.append("您下载了本批次的银行文件：按“四眼原则”，银行回单须由另一名财务人员导入。")
            elif st == "released" and linked_return:
                notes.append(linked_return)
        elif st == "released":
            notes.append("下一步：财务人员把银行文件交银行，并导入银行回单。")
    return acts, notes


def _stopped(session: Any, batch: Any, today: date) -> str | None:
    """What stops the batch's next step for everyone now, said (`batch_stops`: the rule the step refuses by and the
    home card counts by; held accounts are listed on the page apart)."""
    todo = ("approve" if batch.status == "prepared" else "signoff" if batch.status == "approved"
            and batch.signoff_required else "release" if batch.status in ("approved", "signed_off") else None)
    stop = batch_stops.stops(session, [batch], deciders.VERBS[todo], today)[batch.id] if todo else None
    if stop is None or todo is None:
        return None
    detail = "" if stop.kind == "accounts" else "：" + str(getattr(stop.error(), "detail", ""))
    return f"本批次暂不能{sl.BATCH_TODO_ACT[todo]}（{sl.BATCH_STOPS[stop.kind]}）{detail}"


def render_batch(request: Req, ctx: Any, batch_id: str, *, status_code: int = 200, message: str | None = None,
                 return_errors: list[FieldError] | None = None, q: str = "", page_no: str | None = None,
                 typed: dict[str, str] | None = None) -> Template:
    """The batch page; after a refused action, `typed` gives back what its form held (an opinion, a reason) by the
    form's id (signoff, signoff-refuse, remove-<item id>)."""
    user = request.user
    q = fold_search(q)
    with ctx.db.read() as session:
        batch = pay.get_batch(session, batch_id, user)
        b = pay.batch_out(session, batch)
        b.signoffs = pay.signoffs_of(session, batch.id)
        b.signoff_refused_cases = (pay.refused_in_batch(session, batch)
                                   if batch.status in ("prepared", "approved") else [])
        items = batch_list.find_batch_items(session, batch.id, user, ctx.vault, q=q, page=page_param(page_no),
                                            page_size=paging.PAGE_SIZE)
        changed = payees.changed_items(session, batch.id, ctx.vault)
        # the user's hand in an account it pays, or a password link to one who had it: the rule the steps refuse by
        set_by = account_setters.hand_in_batch(session, batch.id, user, ctx.vault)
        shared = pay.shared_accounts(session, batch, ctx.vault)
        held_accounts = [(cid, number, batch_recheck.reason_zh(reason))
                         for cid, number, reason in batch_recheck.held_items(session, batch, ctx.clock.today())
                         ] if batch.status in batch_recheck.CHECKED else []
        statuses = case_service.statuses_of(session, [i.case_id for i in items.items])
        returns = batch_list.bank_returns_of(session, batch.id)
        created = batch_list.creation_payload(session, batch.id)
        took_file = pay.took_bank_file(session, batch.id, user.id) if batch.status == "released" else False
        # an account linked by a password to the releaser's or a file taker's: the rule import_return refuses by
        linked_return = (pay.linked_importer(session, batch, user)
                         if batch.status == "released" and user.has("finance") else None)
        contract = contract_reads.contract(session, batch.contract_id)
        stopped = _stopped(session, batch, ctx.clock.today())
        steps = _steps(b)
        names = user_names(session, [s["by"] for s in steps] + [r.imported_by for r in returns]
                           + [b.signoff_refused_by or ""] + [d.decided_by for d in b.signoffs]
                           + [i.removed_by or "" for i in items.items]
                           + [c.requested_by for c in changed] + [c.approved_by for c in changed])
        shared_cases = case_service.cases_by_id(session, [c for a in shared for c in a.case_ids])
        heads = {cid: c.household.head_name for cid, c in shared_cases.items()}
        said = numbered(session, sl.zh(message) if message else None)
        numbers = case_numbers.numbers_of(session, [i.case_id for i in items.items] + [c.case_id for c in changed]
                                          + ([set_by.setter.case_id] if set_by is not None else [])
                                          + [c for a in shared for c in a.case_ids]
                                          + [s["case_id"] for s in created.get("skipped", [])]
                                          + b.signoff_refused_cases)
    skipped = [(s["case_id"], sl.skip_reason_zh(s["reason"])) for s in created.get("skipped", [])]
    acts, notes = _actions(b, user, changed, numbers, took_file, linked_return, set_by)
    notes = [stopped, *notes] if stopped else notes
    bad_lines = [{"row": e.row, "field": sl.field_zh(e.field), "message": sl.zh(e.message)}
                 for e in (return_errors or [])]
    return page(request, "payment_batch.html", status_code=status_code, b=b, items=items.items, q=q,
                pager=Pager.over(f"/payments/{b.id}", {"q": q}, items), statuses=statuses, returns=returns, skipped=skipped,
                steps=steps, names=names, acts=acts, notes=notes, message=said,
                bad_lines=bad_lines, contract=contract, sl=sl, can_correct=user.has(*PAYEE_EDITORS["roles"]),
                changed=changed, shared=shared, held_accounts=held_accounts, heads=heads, numbers=numbers,
                split=_split(b), typed=typed or {})


def _split(b: BatchOut) -> bool:
    """Whether the batch needs the county's sign-off only with the other batches not seen by the county since its
    latest sign-off (it is under the threshold)."""
    return (b.signoff_required and not b.signoff_refused_cases
            and parse_yuan(b.total) < parse_yuan(b.signoff_threshold))
