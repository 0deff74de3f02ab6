"""Case pages: the list with its filters, the detail with everything known about a case, and the clerk's two
case forms (screening, village review). The other roles' case forms live in supervisor.py and officer.py."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from collections.abc import Callable
from operator import itemgetter
from typing import Annotated, Any, NamedTuple
from urllib.parse import quote, urlencode

import litestar
from litestar import Controller, Response
from litestar.concurrency import sync_to_thread
from litestar.params import FromQuery, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from markupsafe import escape

from ..audit import service as audit_service
from ..cases import id_search, ledger, listing, personal, search_token
from ..cases.approval_form import approval_form as build_approval_form
from ..payments import one_account, payees
from ..cases import service as case_service
from ..cases.present import case_detail
from ..cases.workflow import load_case
from ..checks import evidence_files
from ..checks import review as review_service
from ..checks import service as check_service
from ..contract_review import service as contract_review
from ..domain import photo_times
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.masking import mask_id
from ..followups import receipt
from ..peeks import record as peeks
from ..http import DOCX, Ctx, get, post, quick
from ..cases.ledger import XLSX
from ..notices import service as notice_service
from ..referrals import service as referral_service
from ..reports import service as report_service
from ..contract_review import reads as contract_reads
from .common import (
    ANY,
    CLERK,
    FormState,
    Req,
    clean,
    confirmed,
    form_state,
    page,
    parse_day,
    see_other,
    user_names,
)
from . import reports as report_pages
from .deviations import case_deviations
from ..registers.service import FINDING_READERS
from .registers import finding_rows
from . import labels, stagelabels, stencil
from .paging import Pager, page_param
from .templating import day, yuan
from .payments import READER_ROLES as PAYMENT_READERS

# 不通过 at screening closes the case for good (screened_out: no action leads out of it), so the form asks for its
# confirmation box beside the reason.
SCREEN_OUT_UNCONFIRMED = "不通过将结案，不能撤回：请勾选确认框"
LETTER_ROLES = ("town_clerk", "insurer_supervisor", "county_reviewer")

Id = Annotated[str, Parameter(max_length=40)]
ContractFilter = Annotated[str, Parameter(pattern=r"^(waiting)?$")]
PAGE_SIZE = listing.PAGE_SIZE
EVIDENCE_READERS = {"roles": (*personal.EVIDENCE_READERS, "field_officer")}


def list_query(*, status: str | None, village: str | None, cause: str | None, town: str | None, q: str | None,
               sort: str | None, page: str | None, county_code: str = "",
               contract: str | None = None) -> tuple[listing.CaseQuery, str | None]:
    """The list's query from the address bar. An unknown sort or page falls back to the default (a link from an
    older page still works); a search text too long is answered with a Chinese message and an empty search."""
    wanted = (sort or "").strip()
    sort_key = wanted if wanted.removeprefix("-") in listing.SORTS else "number"
    text = clean(q)
    message = None
    if len(text) > listing.MAX_Q:
        message = f"搜索内容最多 {listing.MAX_Q} 个字符"
        text = ""
    return listing.CaseQuery(status=status or None, village=village or None, cause=cause or None, town=town or None,
                             county_code=county_code or None, q=text or None, sort=sort_key, page=page_param(page),
                             page_size=PAGE_SIZE, contract_waiting=contract == CONTRACT_WAITING), message


def search_window(ctx: Any) -> timedelta:
    return timedelta(minutes=ctx.settings.login_window_minutes)


SEARCH_KEPT = ("status", "village", "cause", "town", "sort", "county_code", "month", "figure", "chart", "period",
               "contract")
CONTRACT_WAITING = "waiting"
"""`contract=waiting`: the list's cases whose contract is not in force (待县审核确认 or refused)."""


def search_target(ctx: Any, user: Any, data: dict[str, Any]) -> str:
    """Where the case search form's POST sends the browser: the list with the form's filters and its search text;
    a whole ID number goes as a sealed search token (`qt`), never as itself (cases/search_token.py)."""
    params = {k: clean(data.get(k)) for k in SEARCH_KEPT}
    text = clean(data.get("q"))
    if listing.is_whole_id_number(text):
        params["qt"] = search_token.make(ctx.vault, user.id, text, ctx.clock.now())
    elif text:
        params["q"] = text
    elif clean(data.get("qt")):  # the same search again, with other filters
        params["qt"] = clean(data.get("qt"))
    if params.get("sort") == "number":
        params["sort"] = ""
    kept = {k: v for k, v in params.items() if v}
    return "/cases" + (("?" + urlencode(kept)) if kept else "")


def opened_search(ctx: Any, user: Any, q: str | None, qt: str) -> tuple[str | None, str, str | None]:
    """(the search text, its token, a message) from the address: a token is opened for its own user while fresh."""
    if not qt:
        return q, "", None
    text = search_token.open_token(ctx.vault, user.id, qt, ctx.clock.now())
    if text is None:
        return None, "", "按身份证号查找的结果已失效（超过 30 分钟，或不是本人的查找），请重新输入身份证号查找。"
    return text, qt, None


def ledger_response(ctx: Any, user: Any, query: listing.CaseQuery) -> Response[Any]:
    """案件台账 as an xlsx: every case matching the query (all pages), in its order."""
    content, filename = ledger.workbook(ctx.db, ctx.vault, user, query, today=ctx.clock.today())
    audit_service.record_export(ctx.db, user, what="case_ledger", content=content, clock=ctx.clock,
                                filters={"status": query.status, "county_code": query.county_code,
                                         "town": query.town, "village": query.village, "cause": query.cause,
                                         "officer": query.officer, "q": query.q, "sort": query.sort,
                                         "contract_waiting": query.contract_waiting or None,
                                         "report_figure": True if query.within is not None else None},
                                county_code=query.county_code)
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content=content, media_type=XLSX,
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


def render_case(request: Req, ctx: Any, case_id: str, *, status_code: int = 200,
                forms: dict[str, FormState] | None = None, message: str | None = None) -> Template:
    """The case page; `forms` carries a form's typed values and errors back into it after a refused POST."""
    user = request.user
    with ctx.db.read() as session:
        case = load_case(session, case_id, user)
        detail = case_detail(session, case, user, ctx.vault)
        ids = {o for v in detail.visits for o in v.officers} | {o for c in detail.checks for o in c.officers}
        ids |= {h.actor for h in detail.history} | {c.recorded_by for c in detail.checks}
        ids |= {c.sent_back_by for c in detail.checks if c.sent_back_by}
        if detail.screen_out_proposal:
            ids.add(detail.screen_out_proposal["proposed_by"])
        if detail.review_fail_proposal:
            ids.add(detail.review_fail_proposal["proposed_by"])
        names = user_names(session, ids)
        evidence = check_service.evidence_by_hash(session, case.id)
        visit = case_service.active_visit(session, case.id)
        reads_evidence = personal.may_read_evidence(user, case, visit)
        # a visit held by an officer of the checks in doubt of a case checked again (an old case's): no check offered
        stale = visit is not None and user.id in visit.officer_ids and bool(case_service.stale_visits(session, [visit]))
        deviations = case_deviations(session, case.id, user)
        findings = finding_rows(session, case.id) if user.has(*FINDING_READERS) else []
        names |= user_names(session, {f["answered_by"] for f in findings if f["answered_by"]})
        contract_note = stagelabels.contract_waiting_zh(contract_review.waiting_note(session, case.contract_id, case))
        shared_hold = (one_account.case_hold_reason(session, case.id, ctx.clock.today())
                       if case.status in payees.PAYEE_STATUSES else None)
        # 收款账户与其他家庭相同: said here, after the check is recorded, not by the check's write
        shared_warning = one_account.case_warning(session, case.id, user, ctx.vault, ctx.clock.today()) \
            if detail.checks else None
        followups = receipt.for_case(session, case.id) if detail.payments else []
        # why this user may not confirm a proposed 不通过 / 未通过 (said instead of that choice; 通过 stays offered):
        # its proposer, or an account linked by a password to the proposer's, the rule `screen` and `record_review`
        # refuse by
        refused = {"screening": case_service.screen_out_refused(session, case, user),
                   "review": notice_service.review_fail_refused(session, case, user)}
        payee_changeable = payees.may_change(session, case)
        names |= user_names(session, {p for f in followups
                                      for p in (f.recorded_by, f.resolved_by, f.confirmed_by,
                                                *(q for r in f.returned for q in (r.resolved_by, r.returned_by)),
                                                *(q for w in f.withdrawn
                                                  for q in (w.resolved_by, w.proposed_by, w.withdrawn_by)),
                                                *(q for e in f.withdraw_ended for q in (e.proposed_by, e.ended_by)))
                                      if p})
    active = next((v for v in detail.visits if v.active), None)
    assigned = active is not None and user.id in active.officers and not stale
    actions = {
        # 初步筛选: a clerk; on a screen-out another clerk proposed, also the county reviewer (never its proposer)
        "screening": detail.status == "received" and (
            user.has("town_clerk") or (user.has("county_reviewer") and detail.screen_out_proposal is not None)),
        # 村级评议: a clerk; on a failed review another clerk recorded, also the county reviewer (never its proposer)
        "review": detail.status == "determined" and (user.has(*notice_service.REVIEW_ROLES) or (
            user.has("county_reviewer") and detail.review_fail_proposal is not None)),
        "schedule": user.has("insurer_supervisor") and detail.status in ("screened", "scheduled"),
        "determine": user.has("insurer_supervisor") and detail.status == "checked",
        "check": user.has("field_officer") and assigned and detail.status == "scheduled",
        # 补录票据: the latest check's own officers, before its determination (web/late_bills.py)
        "add_bills": user.has("field_officer") and detail.status == "checked" and bool(detail.checks)
        and user.id in detail.checks[-1].officers,
        "evidence": reads_evidence,
        "letter": user.has(*LETTER_ROLES) and detail.status == "ineligible",
        "review_request": user.has("town_clerk") and detail.status == "ineligible",
        "payee": user.has(*payees.REQUESTERS) and payee_changeable,
        "household": user.has("insurer_supervisor"),  # 合并家庭, 迁移成员 (web/households.py)
        "findings": user.has("insurer_supervisor") and detail.status == "checked",
    }
    sees_batches = user.has(*PAYMENT_READERS)
    return page(request, "case.html", status_code=status_code, case=detail, names=names, actions=actions,
                sees_batches=sees_batches, dev=deviations, refused=refused,
                forms=forms or {}, message=message, today=ctx.clock.today(), evidence=evidence, findings=findings,
                photo_caveat=photo_times.CAVEAT, contract_note=contract_note, shared_account_hold=shared_hold,
                staff_words=one_account.STAFF_HOLD_REASON,
                shared_warning=shared_warning, followups=followups,
                sees_shared=user.has("county_reviewer", "finance", "insurer_claims", "insurer_supervisor", "auditor"))


Chart = Annotated[str, Parameter(max_length=80, pattern=r"^([a-z_]+(:[a-z0-9_.]+)?)?$")]
Period = Annotated[str, Parameter(pattern=r"^(\d{4}(-(0[1-9]|1[0-2]))?)?$")]


def dashboard_query(ctx: Any, user: Any, query: Any, county_code: str, period: str,
                    chart: str) -> tuple[Any, dict[str, Any]]:
    """The case list's query limited to the cases behind a dashboard chart's bar, and what the banner says."""
    from ..dashboard import service as dashboard_service

    today = ctx.clock.today()
    chosen = dashboard_service.parse_period(period, today)
    with ctx.db.read() as session:
        within = dashboard_service.chart_cases(session, user, county_code, chosen, chart, today=today)
    from .dashboard import chart_label

    return dataclasses.replace(query, within=within), {"county_code": county_code, "period": chosen.code,
                                                       "chart": chart, "label": chart_label(chart)}


@dataclasses.dataclass(frozen=True)
class ListAsk:
    """What the case list's address asks for."""

    status: str | None
    village: str | None
    cause: str | None
    town: str | None
    q: str | None
    sort: str | None
    page_no: str | None
    county_code: str
    month: str
    figure: str
    chart: str
    period: str
    qt: str
    contract: str = ""  # `CONTRACT_WAITING`: only the cases whose contract is not in force


class ListRow(NamedTuple):
    """A row of the case list as it is shown (`_case_row.html`): every value already text for HTML (escaped by
    `list_rows`, as the templates' autoescape would), its labels looked up and its days and money formatted once."""

    id: str
    number: str
    head: str
    household_id: str  # "" when the case has no household (it always has one; the template checks anyway)
    place: str
    group: str
    cause: str
    status: str
    status_label: str
    referred: str
    due: str
    amount: str
    contract: str  # HTML: the mark of a case whose contract is not in force (`CONTRACT_MARKS`), else ""


CONTRACT_MARKS = {
    "pending": ' <span class="badge contract-waiting" title="本案所按的服务合同待县审核确认：确认前不能认定和计算保障金">'
               '合同待县确认</span>',
    "refused": ' <span class="badge contract-waiting" title="本案所按的服务合同已被县级复核员拒绝确认：等待县确认更正后的合同">'
               '合同被县拒绝</span>',
}
"""What the list shows after the status of a case whose contract is not in force, by the contract's status (text of
the page's own, nothing to escape); the case page says the rest (`contract_review.service.waiting_note`)."""

_SPECIAL = re.compile(r"[&<>\"']")
RowMaker = Callable[..., str]


def html_text(value: Any) -> str:
    """`value` as text for HTML, escaped exactly as Jinja's autoescape does (markupsafe); most text has nothing to
    escape, and is then given back as it is, without the cost of markupsafe's Markup for each value."""
    text = value if isinstance(value, str) else str(value)
    return text if _SPECIAL.search(text) is None else str(escape(text))


_row_makers: dict[int, tuple[Any, tuple[RowMaker, RowMaker]]] = {}


def row_makers(env: Any) -> tuple[RowMaker, RowMaker]:
    """`_case_row.html`'s row as two functions of a `ListRow`'s values (text for HTML) giving the row's HTML: for a
    case with a household, and for one without. The macro is rendered once per template environment with markers
    for its values (web/stencil.py), and the text between them made an f-string (the quickest way Python puts
    strings together) of the values."""
    found = _row_makers.get(id(env))
    if found is None or found[0] is not env:
        row = env.get_template("_case_row.html").module.row
        names = [f"v{i}" for i in range(len(ListRow._fields))]
        without = [stencil.mark(n) for n in names]
        without[ListRow._fields.index("household_id")] = ""
        found = _row_makers[id(env)] = (env, (stencil.joiner(str(row(*map(stencil.mark, names))), names),
                                              stencil.joiner(str(row(*without)), names)))
    return found[1]


_SHOWN = ("id", "number", "head_name", "household_id", "town", "village", "household_group", "cause", "status",
          "referred_on", "due", "reported_amount", "contract_id")
"""What a row of the list shows, in the order `list_rows` takes them from a row."""


def list_rows(cases: list[Any], makers: tuple[RowMaker, RowMaker], unaccepted: dict[str, str] | None = None) -> str:
    """The list's rows (HTML) of `listing.read_page`'s rows, by `row_makers`. A row's labels are looked up and
    escaped once per page for each group, cause and status they are of; whether anything of the page's text values
    has a character to escape is looked at once for the page (most pages have none), and a page that has one is
    made by `escaped_rows`. `unaccepted`: the contracts not in force (id -> status), whose cases are marked."""
    if not cases:
        return ""
    with_household, without = makers
    unaccepted = unaccepted or {}
    get = itemgetter(*map(type(cases[0])._fields.index, _SHOWN))
    labelled: dict[tuple[Any, Any, Any], tuple[str, str, str]] = {}
    found = []
    looked = []
    for c in cases:
        id_, number, head, household, town, village, group, cause, status, referred, due, amount, contract = get(c)
        mark = CONTRACT_MARKS.get(unaccepted.get(contract), "") if unaccepted else ""
        looked.append(f"{id_}{number}{head}{household}{town}{village}{status}")
        shown = labelled.get((group, cause, status))
        if shown is None:
            shown = labelled[(group, cause, status)] = _labels(group, cause, status)
        if type(referred) is not str or len(referred) > 10:  # ISO text as read (`day` of it is itself), or a date
            referred = day(referred)
        if type(due) is not str or len(due) > 10:
            due = day(due)
        if type(amount) is int:  # fen, as `yuan` writes it; days and money have nothing to escape
            whole, frac = divmod(-amount if amount < 0 else amount, 100)
            money = f"-{whole:,}.{frac:02d}" if amount < 0 else f"{whole:,}.{frac:02d}"
        else:
            money = yuan(amount)
        if household:
            found.append(with_household(id_, number, head, household, f"{town} {village}", shown[0], shown[1],
                                        status, shown[2], referred, due, money, mark))
        else:
            found.append(without(id_, number, head, "", f"{town} {village}", shown[0], shown[1], status, shown[2],
                                 referred, due, money, mark))
    if _SPECIAL.search("".join(looked)) is not None:
        return escaped_rows(cases, makers, unaccepted)
    return "".join(found)


ROWS_KEPT = 5_000  # rows' HTML kept per process (`kept_rows`); all are dropped when it is reached
_kept_rows: dict[tuple[Any, ...], str] = {}



def kept_rows(cases: list[Any], makers: tuple[RowMaker, RowMaker], unaccepted: dict[str, str] | None = None) -> str:
    """`list_rows`, each row's HTML kept by everything it is made of: the row as read (its kind and every value), its
    labels as they are now, the status of its contract when not in force (`unaccepted`) and the row makers; a row not
    kept is made by `list_rows` alone (as it would be made on its page: a row's HTML depends on nothing else of the
    page)."""
    if not cases:
        return ""
    unaccepted = unaccepted or {}
    get = itemgetter(*map(type(cases[0])._fields.index, ("household_group", "cause", "status", "contract_id")))
    labelled: dict[tuple[Any, Any, Any, Any], tuple[str, ...]] = {}
    found = []
    for c in cases:
        codes = get(c)
        shown = labelled.get(codes)
        if shown is None:
            shown = labelled[codes] = (*_labels(*codes[:3]), unaccepted.get(codes[3], ""))
        key = (makers, type(c), c, shown)
        try:
            html = _kept_rows.get(key)
        except TypeError:  # a value that cannot be a key: the page made as it is
            return list_rows(cases, makers, unaccepted)
        if html is None:
            html = list_rows([c], makers, unaccepted)
            if len(_kept_rows) >= ROWS_KEPT:
                _kept_rows.clear()
            _kept_rows[key] = html
        found.append(html)
    return "".join(found)


def _labels(group: Any, cause: Any, status: Any) -> tuple[str, ...]:
    return tuple(html_text(table.get(code, "" if code is None else str(code)))
                 for table, code in zip((labels.GROUPS, labels.CAUSES, labels.STATUS_LABELS), (group, cause, status)))


def escaped_rows(cases: list[Any], makers: tuple[RowMaker, RowMaker], unaccepted: dict[str, str] | None = None) -> str:
    """`list_rows` of a page with something to escape: each row's values looked at, and escaped when they need it,
    exactly as autoescape escapes."""
    with_household, without = makers
    labelled: dict[tuple[Any, Any, Any], tuple[str, ...]] = {}
    found = []
    for c in cases:
        texts = (c.id, c.number, c.head_name, c.household_id or "", f"{c.town} {c.village}", c.status)
        try:
            plain = _SPECIAL.search("".join(texts)) is None
        except TypeError:  # a value that is not text
            plain = False
        if not plain:
            texts = tuple(html_text(t) for t in texts)
        codes = (c.household_group, c.cause, c.status)
        shown = labelled.get(codes)
        if shown is None:
            shown = labelled[codes] = _labels(*codes)
        referred, due = c.referred_on, c.due
        found.append((with_household if texts[3] else without)(
            *texts[:5], shown[0], shown[1], texts[5], shown[2],
            referred if type(referred) is str and len(referred) <= 10 else day(referred),
            due if type(due) is str and len(due) <= 10 else day(due), yuan(c.reported_amount),
            CONTRACT_MARKS.get((unaccepted or {}).get(c.contract_id), "")))
    return "".join(found)


STATUSES = [(str(k), v) for k, v in STATUS_LABELS_ZH.items()]
LIST_STENCILS = stencil.Stencils()


@dataclasses.dataclass
class Listed:
    """What the list shows, once its address is checked: the query, and what the page says about it."""

    q: str | None
    qt: str
    query: listing.CaseQuery
    message: str | None
    status_code: int
    report: dict[str, Any] | None
    report_error: str
    board: dict[str, Any] | None
    shown: bool  # whether cases are shown (not after a search refused or expired)


def list_page(ctx: Any, request: Req, asked: ListAsk) -> Any:
    """The case list page, read in the calling thread: with a report figure, a chart or a search by ID number (see
    `CasePages.list_cases` for the others)."""
    listed = list_asked(ctx, request.user, asked)
    return list_answer(ctx, request, asked, listed, list_read(ctx, request.user, listed))


def list_asked(ctx: Any, user: Any, asked: ListAsk) -> Listed:
    """The list's query and its messages. Only a report figure, a chart or a search by ID number (counted) read or
    write anything here."""
    q, qt, token_message = opened_search(ctx, user, asked.q, asked.qt)
    county_code, month, figure, chart, period = asked.county_code, asked.month, asked.figure, asked.chart, asked.period
    query, message = list_query(status=asked.status, village=asked.village, cause=asked.cause, town=asked.town, q=q,
                                sort=asked.sort, page=asked.page_no, county_code=county_code,
                                contract=asked.contract)
    status_code = 422 if message else 200
    message = message or token_message
    # The cases behind a figure of the monthly report (its links): the county, the month and the figure.
    report, report_error = None, ""
    if figure and county_code and month:
        try:
            with ctx.db.read() as session:  # 累计 starts where the report's does: the contract year
                within = report_service.figure_cases(county_code, month, figure, session)
                county = contract_reads.county_label(session, county_code)
            query = dataclasses.replace(query, within=within)
            report = {"label": report_pages.figure_label(figure), "county_code": county_code, "month": month,
                      "figure": figure, "county": county}
        except ValidationFailed:
            report_error = "没有这一项月报数字。请回到月报页面，点击要查看的数字。"
            status_code = 422
    # The cases behind a bar of a dashboard chart (the home page's links): the county, the period and the chart.
    board = None
    if chart and county_code and period:
        try:
            query, board = dashboard_query(ctx, user, query, county_code, period, chart)
        except ValidationFailed:
            report_error = "没有这一项图表。请回到首页，点击要查看的图表。"
            status_code = 422
    try:
        id_search.count_search(ctx.db, user, query.q, ctx.clock.now(), search_window(ctx))
    except id_search.TooManyIdSearches as exc:
        message = f"按身份证号查找过于频繁，请 {max(1, exc.retry_after // 60)} 分钟后再试。"
        status_code = 429
    return Listed(q=q, qt=qt, query=query, message=message, status_code=status_code, report=report,
                  report_error=report_error, board=board, shown=status_code != 429 and not token_message)


def list_read(ctx: Any, user: Any, listed: Listed) -> listing.ListRead:
    """The page's read in the calling thread: through one reader, or through a session for a report figure's or a
    chart's cases."""
    query = listed.query
    if not listed.shown:
        empty = listing.CasePage(cases=[], total=0, page=1, pages=1, page_size=query.page_size)
        with ctx.db.reader() as reader:
            return listing.empty_read(reader, user, empty)
    if query.within is None:
        with ctx.db.reader() as reader:
            return listing.read_page(reader, user, query, ctx.vault, sqlite=ctx.db.is_sqlite)
    with ctx.db.read() as session:
        return listing.read_page(session, user, query, ctx.vault, sqlite=ctx.db.is_sqlite)


def list_answer(ctx: Any, request: Req, asked: ListAsk, listed: Listed, read: listing.ListRead) -> Any:
    """The page of what was read."""
    status_code, values, context = list_parts(ctx, request.user, request.app.template_engine.engine, asked, listed,
                                              read)
    return LIST_STENCILS.page(request, "cases.html", values, status_code=status_code, **context)


def list_parts(ctx: Any, user: Any, engine: Any, asked: ListAsk, listed: Listed,
               read: listing.ListRead) -> tuple[int, dict[str, str], dict[str, Any]]:
    """What the page is made of: its status, its values (the rows, HTML) and the template's context."""
    q, qt, query, message, report, board = (listed.q, listed.qt, listed.query, listed.message, listed.report,
                                            listed.board)
    county_code, month, figure, chart, period = asked.county_code, asked.month, asked.figure, asked.chart, asked.period
    status_code, report_error = listed.status_code, listed.report_error
    found, villages, contracts = read.found, read.villages, read.contracts
    causes = list_causes(contracts, user, ctx.clock.today())
    filters = {"status": asked.status or "", "village": asked.village or "", "cause": asked.cause or "",
               "town": asked.town or "", "q": "" if qt else (q or "").strip(), "qt": qt, "sort": query.sort,
               "county_code": county_code, "month": month if report else "", "figure": figure if report else "",
               "chart": chart if board else "", "period": period if board else "",
               "contract": CONTRACT_WAITING if query.contract_waiting else ""}
    pager = Pager.of("/cases", {**filters, "sort": "" if query.sort == "number" else query.sort},
                     page=found.page, pages=found.pages, total=found.total, page_size=query.page_size)
    export = Pager.of("/cases/ledger.xlsx", {**filters, "sort": query.sort}, page=1, pages=1, total=0)
    rows = kept_rows(found.cases, row_makers(engine), read.unaccepted)
    return status_code, {"rows": rows}, dict(
        pager=pager, searched_id=mask_id(query.q.upper()) if qt and query.q else "", export_url=export.url(),
        filters=filters, message=message, villages=villages, report=report, report_error=report_error, board=board,
        statuses=STATUSES, causes=causes)


_causes: dict[tuple[Any, ...], list[tuple[str, str]]] = {}


def list_causes(contracts: list[Any], user: Any, today: Any) -> list[tuple[str, str]]:
    """The causes of the filter (code, name): those of the user's counties' contracts (`vocabulary_of`), worked out
    once per process for each set of contracts (by id and content: a changed contract is another key), counties and
    day."""
    key = (tuple([(c.id, c.content_hash) for c in contracts]), user.counties, today)
    found = _causes.get(key)
    if found is None:
        if len(_causes) >= 256:
            _causes.clear()
        found = _causes[key] = list(referral_service.vocabulary_of(
            contracts, contract_reads.counties_in(user, contracts), today).cause_names().items())
    return found


class CasePages(Controller):
    path = "/cases"

    @litestar.get("/", opt=ANY)
    async def list_cases(
        self, ctx: Ctx, request: Req, status: FromQuery[str | None] = None, village: FromQuery[str | None] = None,
        cause: FromQuery[str | None] = None, town: FromQuery[str | None] = None, q: FromQuery[str | None] = None,
        sort: FromQuery[str | None] = None,
        page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None,
        county_code: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "",
        month: Annotated[str, Parameter(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")] = "",
        figure: Annotated[str, Parameter(max_length=60, pattern=r"^[a-z_]*(:[a-z_]+)?$")] = "",
        chart: Chart = "", period: Period = "", qt: Annotated[str, Parameter(max_length=search_token.MAX_TOKEN)] = "",
        contract: ContractFilter = "",
    ) -> Any:
        if listing.is_whole_id_number(q):  # an older link or a hand-typed address: the ID number leaves it at once
            return Redirect(path=search_target(ctx, request.user, dict(request.query_params.items())), status_code=303)
        asked = ListAsk(status=status, village=village, cause=cause, town=town, q=q, sort=sort, page_no=page_no,
                        county_code=county_code, month=month, figure=figure, chart=chart, period=period, qt=qt,
                        contract=contract)
        if figure or chart or qt:  # a report's or a chart's cases, a search by ID number (counted): in a thread
            return await sync_to_thread(list_page, ctx, request, asked)
        listed = list_asked(ctx, request.user, asked)  # nothing read or written for the others
        if listed.shown and listed.query.within is None:  # on the event loop, on both databases
            read = await ctx.db.ask(listing.read_page_steps(request.user, listed.query, ctx.vault,
                                                            sqlite=ctx.db.is_sqlite), gather=False)
        else:
            read = await quick(ctx.db, list_read, ctx, request.user, listed)
        return list_answer(ctx, request, asked, listed, read)

    @post("/search", opt=ANY, status_code=303)
    def search(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Redirect:
        """The case search form: stores nothing, sends the browser to the list; a whole ID number typed in goes
        there as a sealed, short-lived search token, so it is in no address (history, proxies, Referer)."""
        return Redirect(path=search_target(ctx, request.user, data), status_code=303)

    @get("/ledger.xlsx", opt=ANY)
    def ledger(
        self, ctx: Ctx, request: Req, status: FromQuery[str | None] = None, village: FromQuery[str | None] = None,
        cause: FromQuery[str | None] = None, town: FromQuery[str | None] = None, q: FromQuery[str | None] = None,
        sort: FromQuery[str | None] = None,
        county_code: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "",
        month: Annotated[str, Parameter(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")] = "",
        figure: Annotated[str, Parameter(max_length=60, pattern=r"^[a-z_]*(:[a-z_]+)?$")] = "",
        chart: Chart = "", period: Period = "", qt: Annotated[str, Parameter(max_length=search_token.MAX_TOKEN)] = "",
        contract: ContractFilter = "",
    ) -> Response[Any]:
        q, _, expired = opened_search(ctx, request.user, q, qt)
        if expired:
            raise ValidationFailed.one("qt", expired)
        query, message = list_query(status=status, village=village, cause=cause, town=town, q=q, sort=sort, page=None,
                                    county_code=county_code, contract=contract)
        if message:
            raise ValidationFailed.one("q", message)
        if figure and county_code and month:  # the cases behind a monthly report figure, as on the list
            with ctx.db.read() as session:
                within = report_service.figure_cases(county_code, month, figure, session)
            query = dataclasses.replace(query, within=within)
        if chart and county_code and period:  # the cases behind a dashboard chart's bar, as on the list
            query, _ = dashboard_query(ctx, request.user, query, county_code, period, chart)
        id_search.count_search(ctx.db, request.user, query.q, ctx.clock.now(), search_window(ctx))
        return ledger_response(ctx, request.user, query)

    @get("/{case_id:str}", opt=ANY)
    def show(self, case_id: Id, ctx: Ctx, request: Req) -> Template:
        return render_case(request, ctx, case_id)

    @get("/{case_id:str}/approval-form", opt=ANY)
    def approval_form(self, case_id: Id, ctx: Ctx, request: Req) -> Template:
        """The case's 核查审批表 as a page to print (A4, no navigation), for whoever may read the case."""
        with ctx.db.read() as session:
            form = build_approval_form(session, case_id, request.user, ctx.vault)
        return page(request, "approval_form.html", form=form, today=ctx.clock.today())

    @get("/{case_id:str}/evidence/{sha256:str}", opt=EVIDENCE_READERS)
    def evidence_file(self, case_id: Id, sha256: Annotated[str, Parameter(pattern=r"^[0-9a-f]{64}$")], ctx: Ctx,
                      request: Req) -> Response[bytes]:
        with ctx.db.read() as session:
            case = load_case(session, case_id, request.user)
            visit = case_service.active_visit(session, case.id)
            if not personal.may_read_evidence(request.user, case, visit):
                raise Forbidden("核查员只能在录入所负责案件的核查结果之前查看证明材料")
            ev = check_service.evidence_file_of(session, case.id, sha256)
        content = None if ev is None else evidence_files.read(ctx.settings.evidence_dir, ctx.vault, sha256)
        if ev is None or content is None:
            raise NotFound("证明材料不存在，或不在您的权限范围内")
        # the look recorded in a short write before the bytes go out (查阅留痕): when it cannot be, nothing is served
        with ctx.db.begin() as session:
            peeks.evidence(session, request.user, case, visit, route="page", clock=ctx.clock)
        return Response(content=content, media_type=ev.content_type,
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    @post("/{case_id:str}/screening", opt={"roles": case_service.SCREEN_OUT_CONFIRMERS}, status_code=303)
    def screening(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        decision = clean(data.get("decision"))
        reason = clean(data.get("reason"))
        fields = ("decision", "reason", "confirm")
        try:
            if decision not in ("pass", "reject"):
                raise ValidationFailed.one("decision", "请选择通过或不通过")
            if decision == "reject" and not confirmed(data):  # 不通过 closes the case: no action leads out of it
                problems = [FieldError("confirm", SCREEN_OUT_UNCONFIRMED)]
                if not reason:
                    problems.insert(0, FieldError("reason", "不通过时须填写原因"))
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                case = case_service.screen(session, case_id, decision=decision, reason=reason,
                                           principal=request.user, clock=ctx.clock)
                proposed = case.screen_out_proposed_by is not None
        except ValidationFailed as exc:
            return render_case(request, ctx, case_id, status_code=422,
                               forms={"screening": form_state(data, exc, fields)})
        except Forbidden as exc:  # the proposer confirming their own screen-out: the form again, as typed
            failed = ValidationFailed.one("decision", exc.detail)
            return render_case(request, ctx, case_id, status_code=403,
                               forms={"screening": form_state(data, failed, fields)})
        except InvalidState as exc:
            return render_case(request, ctx, case_id, status_code=409, message=exc.detail)
        return see_other(f"/cases/{case_id}", done="screen_out_proposed" if proposed else "screened")

    @get("/{case_id:str}/result-letter", opt={"roles": LETTER_ROLES})
    def result_letter(self, case_id: Id, ctx: Ctx, request: Req) -> Response[bytes]:
        with ctx.db.read() as session:
            content = review_service.result_letter(session, case_id, principal=request.user, clock=ctx.clock)
        disposition = (f"attachment; filename=\"result-{case_id}.docx\"; "
                       f"filename*=UTF-8''{quote('认定结果告知书-' + case_id + '.docx')}")
        return Response(content=content, media_type=DOCX, headers={"Content-Disposition": disposition})

    @post("/{case_id:str}/review-request", opt=CLERK, status_code=303)
    def review_request(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        fields = ("received_on", "summary")
        problems: list[Any] = []
        received_on = parse_day(data.get("received_on"), "received_on", problems)
        try:
            if problems or received_on is None:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                review_service.request_review(session, case_id, received_on=received_on,
                                              summary=str(data.get("summary") or ""), principal=request.user,
                                              clock=ctx.clock)
        except ValidationFailed as exc:
            return render_case(request, ctx, case_id, status_code=422,
                               forms={"review_request": form_state(data, exc, fields)})
        except InvalidState as exc:
            return render_case(request, ctx, case_id, status_code=409, message=exc.detail)
        return see_other(f"/cases/{case_id}", done="review_request")

    @post("/{case_id:str}/review", opt={"roles": notice_service.REVIEW_FAIL_CONFIRMERS}, status_code=303)
    def village_review(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        fields = ("held_on", "result", "note")
        problems: list[Any] = []
        held_on = parse_day(data.get("held_on"), "held_on", problems)
        result = clean(data.get("result"))
        if result not in ("pass", "fail"):
            problems.append(ValidationFailed.one("result", "请选择通过或未通过").errors[0])
        try:
            if problems or held_on is None:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                _, case = notice_service.record_review(session, case_id, held_on=held_on, result=result,
                                                       note=clean(data.get("note")), principal=request.user,
                                                       clock=ctx.clock)
                proposed = case.review_fail_proposed_by is not None
        except ValidationFailed as exc:
            return render_case(request, ctx, case_id, status_code=422, forms={"review": form_state(data, exc, fields)})
        except Forbidden as exc:  # the proposer confirming their own failed review: the form again, as typed
            failed = ValidationFailed.one("result", exc.detail)
            return render_case(request, ctx, case_id, status_code=403,
                               forms={"review": form_state(data, failed, fields)})
        except InvalidState as exc:
            return render_case(request, ctx, case_id, status_code=409, message=exc.detail)
        return see_other(f"/cases/{case_id}", done="review_fail_proposed" if proposed else "review")
