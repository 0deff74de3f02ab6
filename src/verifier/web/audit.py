"""The audit page for auditors, county reviewers and admins: the latest signed checkpoint, the key that checks it,
and any entry of their counties with its inclusion proof, checked against the checkpoint's root right here."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller
from litestar.params import Parameter, QueryParameter
from litestar.response import Template

from ..accounts.auth import Principal
from ..audit import listing as audit_listing
from ..audit import log as audit_log
from ..audit import merkle, service
from ..audit.checkpoints import checkpoint_at, latest_checkpoint
from ..audit.notes import NoteError, VerifierKey, open_checkpoint
from ..cases.numbers import numbers_of
from ..notices.reading import notice_names
from ..payments.batch_list import batch_codes
from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..http import Ctx, get
from ..sampling.service import round_titles
from ..store.paged import fold_search
from . import labels, paging, stagelabels
from . import exports
from .common import AUDIT_READERS, FormState, Req, page, parse_day, user_names
from .paging import Pager, page_param
from .payments.roles import READER_ROLES as BATCH_READERS
from .sampling import READERS as ROUND_READERS
from .templating import moment

WIDE_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _summary(session: Any, data: dict[str, Any]) -> dict[str, str]:
    """What an entry says, for a person: the action, who (by name and role), when (local time), and the change."""
    actor, role, action = str(data.get("actor", "")), str(data.get("role", "")), str(data.get("action", ""))
    payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
    return {"action": labels.action_label(action), "code": action, "subject": str(data.get("subject", "")),
            "actor": user_names(session, [actor]).get(actor, actor), "role": labels.ROLE_LABELS.get(role, role),
            "time": moment(str(data.get("time", ""))), "change": stagelabels.change_zh(action, payload)}


def _entry_view(ctx: Any, index: int, user: Principal) -> dict[str, Any]:
    proof = service.entry_with_proof(ctx.db, index, signer=ctx.signer, principal=user)
    raw = base64.b64decode(proof.entry)
    try:
        data = json.loads(raw)
        pretty = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    except ValueError:
        data, pretty = None, raw.decode("utf-8", "replace")
    with ctx.db.read() as session:
        cp = checkpoint_at(session, proof.tree_size)
        summary = _summary(session, data) if isinstance(data, dict) else None
    verified, problem = False, ""
    if cp is not None:
        try:
            leaf = merkle.leaf_hash(raw)
            if leaf.hex() != proof.leaf_hash:
                raise merkle.ProofError("the entry's bytes do not hash to its leaf hash")
            merkle.verify_inclusion(leaf, proof.index, proof.tree_size, [bytes.fromhex(h) for h in proof.inclusion_proof],
                                    cp.root)
            verified = True
        except merkle.ProofError:
            problem = "记录内容或包含证明与已签名的检查点不符，请联系系统管理员核查。"
    return {"proof": proof, "pretty": pretty, "summary": summary, "verified": verified, "problem": problem,
            "root": cp.root.hex() if cp else ""}


def _audit_page(ctx: Any, request: Req, index: str | None, *, export: FormState | None = None,
                status_code: int = 200, action: str = "", q: str = "", page_no: str | None = None) -> Template:
    checkpoint = service.checkpoint_text(ctx.db, ctx.signer) if ctx.signer else None
    key = service.public_key_text(ctx.signer).strip() if ctx.signer else ""
    action = action if action in labels.ACTIONS else ""
    q = fold_search(q)
    with ctx.db.read() as session:
        size = audit_log.tree_size(session)
        latest = latest_checkpoint(session)
        found = audit_listing.find_entries(session, request.user, action=action, q=q, page=page_param(page_no),
                                           page_size=paging.PAGE_SIZE)
        names = user_names(session, [row.actor for row in found.items])
        case_numbers = numbers_of(session, [row.subject for row in found.items if row.subject.startswith("case_")])
        rounds = round_titles(session, [row.subject for row in found.items if row.subject.startswith("smp_")])
        batches = batch_codes(session, {row.subject for row in found.items if row.subject.startswith("pb_")})
        notices = notice_names(session, [row.subject for row in found.items if row.subject.startswith("ntc_")])
    signature_ok = False
    if checkpoint and key:
        try:
            open_checkpoint(checkpoint, [VerifierKey.parse(key)])
            signature_ok = True
        except NoteError:
            signature_ok = False
    entry, lookup_error = None, ""
    text = (index or "").strip().translate(WIDE_DIGITS)  # a full-width １２ is 12 (not a superscript ²)
    if text:
        if not (text.isascii() and text.isdigit() and len(text) <= 15):
            lookup_error = "请输入记录序号（从 0 开始的整数）。"
        else:
            try:
                entry = _entry_view(ctx, int(text), request.user)
            except (NotFound, ValidationFailed):
                lookup_error = f"没有序号为 {text} 的记录（日志共 {size} 条，序号 0 至 {size - 1}）。"
    pager = Pager.over("/audit", {"action": action, "q": q}, found)
    kept = [*pager.params, *([("page", str(pager.page))] if pager.page > 1 else [])]

    def entry_url(idx: int) -> str:
        """An entry of the list, shown above the list as it is (its 事项, search and page kept)."""
        return "/audit?" + urlencode([("index", str(idx)), *kept])

    # the export form starts from what the list shows (its 事项 and search): exporting what one sees is one click
    export = export or FormState(values={"from": "", "to": "", "action": action, "q": q})
    return page(request, "audit.html", status_code=status_code, checkpoint=checkpoint, key=key, size=size,
                latest=latest, signature_ok=signature_ok, index=text, entry=entry, lookup_error=lookup_error,
                actions=exports.audit_actions(), export=export, rows=found.items, names=names,
                pager=pager, kept=kept, entry_url=entry_url, action=action, q=q,
                action_label=labels.action_label, role_labels=labels.ROLE_LABELS, case_numbers=case_numbers,
                rounds=rounds, sees_rounds=request.user.has(*ROUND_READERS["roles"]), batches=batches, notices=notices,
                sees_batches=request.user.has(*BATCH_READERS))


class AuditPages(Controller):
    path = "/audit"

    @get("/", opt=AUDIT_READERS)
    def audit(self, ctx: Ctx, request: Req,
              index: Annotated[str | None, Parameter(max_length=20)] = None,
              action: Annotated[str, Parameter(max_length=100)] = "",
              q: Annotated[str, Parameter(max_length=200)] = "",
              page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        return _audit_page(ctx, request, index, action=action, q=q, page_no=page_no)

    @get("/export.xlsx", opt=AUDIT_READERS)
    def export(self, ctx: Ctx, request: Req, from_: Annotated[str, QueryParameter(name="from", max_length=20)] = "",
               to: Annotated[str, QueryParameter(max_length=20)] = "",
               action: Annotated[str, QueryParameter(max_length=100)] = "",
               q: Annotated[str, QueryParameter(max_length=200)] = "") -> Any:
        """The entries of the chosen days (and action, and the list's search) as a workbook; a bad choice re-renders
        the page, in Chinese, with the list as it was and the form as typed."""
        problems: list[FieldError] = []
        since = parse_day(from_, "from", problems, required=False)
        until = parse_day(to, "to", problems, required=False)
        if since and until and since > until:
            problems.append(FieldError("to", f"结束日期不能早于开始日期（填写的是 {since} 至 {until}）"))
        if action and action not in labels.ACTIONS:
            problems.append(FieldError("action", "请从列表中选择事项"))
        if not problems:
            return exports.audit_response(ctx, request.user, since, until, action, fold_search(q))
        state = FormState(values={"from": from_, "to": to, "action": action, "q": q})
        for problem in problems:
            state.add(problem.field, labels.message_zh(problem.message))
        return _audit_page(ctx, request, None, export=state, status_code=422, action=action, q=q)
