"""Logging in (limited per account and per client) and out (everywhere) with a cookie, and the home page: per role,
what the user can do and how much is waiting."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request
from litestar.datastructures import Cookie
from litestar.params import FromQuery, Parameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from ..accounts import grants
from ..accounts.auth import TOKEN_LIFETIME, Principal, issue_token
from ..accounts.limits import TooManyAttempts
from ..accounts.login import limiter_for, log_in, log_out, request_client
from ..audit import log as audit_log
from ..audit.checkpoints import latest_checkpoint
from ..cases import hand_picked
from ..cases import service as case_service
from ..cases.service import (HAND_PICKED_DAYS, SCREEN_OUT_CONFIRMERS, count_by_status, officer_home,
                             screen_out_proposals)
from ..clock import SCHEME_TZ
from ..conflicts import service as conflict_service
from ..dashboard import service as dashboard_service
from ..followups import alone_look, receipt
from ..households.service import proposals as household_proposals
from ..followups import service as followup_service
from ..needs import figures as need_figures
from ..needs import service as need_service
from ..http import Ctx, get, post
from ..notices.posting import CONFIRMERS as POSTING_CONFIRMERS
from ..notices.posting import waiting as posting_waiting
from ..notices import reading as notice_reading
from ..payments import one_account
from ..peeks import listing as look_list
from ..recusal import refusals as recusal_refusals
from ..recusal import service as recusal_service
from ..registers import confirmation as register_confirmation
from ..roster import comparison as roster_comparison
from ..store.vault import Vault
from ..notices.service import REVIEW_FAIL_CONFIRMERS, clerk_home, review_fail_proposals
from . import dashboard as dashboard_page
from . import stagelabels
from .common import OPEN_BEFORE_CHANGE, OPEN_BEFORE_ROLE, PUBLIC, Req, page, safe_next, user_names
from .labels import STATUS_LABELS
from .payments import home_cards as payment_cards
from .registers import feed_rows
from .reports import READER_ROLES as REPORT_READERS
from .sampling import home_cards as sampling_cards
from .security import LOGIN_FORM


def _retry_message(ctx: Any, seconds: int) -> str:
    """When a locked-out login may try again, in the scheme's local time."""
    at = (ctx.clock.now() + timedelta(seconds=seconds)).astimezone(SCHEME_TZ)
    minutes = max(1, -(-seconds // 60))
    return f"登录失败次数过多，已暂停登录。请在 {at:%H:%M} 之后（约 {minutes} 分钟后）再试；如忘记密码，请联系管理员。"


class LoginPages(Controller):
    path = "/"

    @get("/login", opt=PUBLIC)
    def login_form(self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None,
                   unsaved: FromQuery[str | None] = None) -> Template:
        return page(request, "login.html", next=safe_next(next), username="", failed=False, unsaved=unsaved == "1")

    @post("/login", opt=LOGIN_FORM, status_code=303)
    def login(self, ctx: Ctx, request: Request[Any, Any, Any],
              data: URLEncodedBody[dict[str, Any]]) -> Any:
        username = str(data.get("username") or "").strip()
        password = str(data.get("password") or "")
        target = safe_next(str(data.get("next") or ""))
        try:
            done = log_in(ctx.db, limiter_for(ctx), username=username, password=password,
                          client=request_client(ctx, request), clock=ctx.clock)
        except TooManyAttempts as exc:
            shown = page(request, "login.html", status_code=429, next=target, username=username, failed=False,
                         locked=_retry_message(ctx, exc.retry_after))
            shown.headers.update(exc.headers)
            return shown
        if done is None:
            # The form again, with the message (200: a page answering a form, like any other re-shown form); in the
            # history as the login page's address (app.js), so Back onto it never asks to send the form again.
            return page(request, "login.html", next=target, username=username, failed=True,
                        form_page="/login?" + urlencode({"next": target}))
        auth = request.app.state.auth
        token = issue_token(auth, done.principal.id, done.session_id)
        cookie = Cookie(key=auth.key, value=token, path="/", httponly=True, secure=auth.secure,
                        samesite=auth.samesite, max_age=int(TOKEN_LIFETIME.total_seconds()))
        return Redirect(path=target, status_code=303, cookies=[cookie])

    @get("/logout", opt=PUBLIC)
    def logout_form(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "logout.html")

    @post("/logout", opt=OPEN_BEFORE_CHANGE, status_code=303)
    def logout(self, ctx: Ctx, request: Req) -> Redirect:
        """Log out everywhere: every session of the user ends, on this browser and any other."""
        log_out(ctx.db, request.user, clock=ctx.clock)
        auth = request.app.state.auth
        gone = Cookie(key=auth.key, value="", path="/", httponly=True, secure=auth.secure, samesite=auth.samesite,
                      max_age=0, expires=0)
        return Redirect(path="/login", status_code=303, cookies=[gone])


def _tasks(session: Session, user: Principal, today: date, vault: Vault) -> list[dict[str, Any]]:
    """The cards of the home page: one per thing the user does, with how many are waiting."""
    counts = count_by_status(session, user)
    cards: list[dict[str, Any]] = []

    def card(title: str, href: str | None, count: int | None = None, note: str = "") -> None:
        cards.append({"title": title, "href": href, "count": count, "note": note})

    if user.has("field_officer"):
        visits = officer_home(session, user, today)
        card("今天的走访", "/visits", visits.today, "今天安排给您的入户核查")
        card("逾期未核查", "/visits", visits.overdue, "走访日期已过或已超过核查期限、尚未录入核查结果")
        card("之后的走访", "/visits", visits.later)
    if user.has("town_clerk"):
        notices = clerk_home(session, user)
        card("录入农户申请", "/applications/new", None, "农户到村委会提出的申请")
        card("待初筛", "/cases?status=received", counts.get("received", 0))
        card("待村级评议", "/cases?status=determined", counts.get("determined", 0))
        # the households of the villages the notice form lists (where the clerk posts a village's notice): the same
        # read as that list, so the card counts exactly what its link shows
        awaiting = notice_reading.villages_awaiting_notice(session, user)
        card("待公示", "/notices/new", sum(n for *_, n, _others in awaiting), "已通过村级评议、尚未公示的案件")
        # notices, not cases: the case table below counts the households on them (4 households on 1 notice)
        card("公示中", "/notices?status=open", notices.open_notices, "正在公示的公示（份），期满后结束公示")
        # an objection typed after its notice closed (its household's payment held) lies on a closed notice
        card("待处理异议", "/notices" if notices.late_objections else "/notices?status=open", notices.open_objections)
    if user.has(*POSTING_CONFIRMERS):
        card("公示张贴待第二人确认", "/notices?posting=to_decide", len(posting_waiting(session, user).mine),
             "公示张贴须由发布人以外的另一人凭公示期内的照片确认，确认前不能付款")
    if user.has("insurer_supervisor"):
        # with the cases scheduled on a stale visit, to be sent to others: what /schedule lists
        card("待排期", "/schedule", counts.get("screened", 0) + len(case_service.stale_scheduled(session, user)),
             "已通过初筛、等待安排入户核查；原走访人员须回避、须改派的案件")
        card("已排期待核查", "/cases?status=scheduled", counts.get("scheduled", 0))
        card("待认定", "/cases?status=checked", counts.get("checked", 0), "已完成入户核查、等待确认认定结果")
    if user.has(*household_proposals.CONFIRMERS):
        card("合并迁移待第二人确认", "/household-proposals?to_decide=1", household_proposals.pending_count(session, user),
             "合并家庭、迁移成员改变家庭人口，须由提交人以外的另一位保险公司主管或县级复核员确认才生效")
    if user.has("insurer_supervisor", "county_reviewer"):
        card("导入监测信息", "/referrals/import", None, "医保、民政、应急管理、教育部门的名单")
    if user.has(*followup_service.READERS) and not user.has("auditor"):
        mine = user.has("field_officer") and not user.has("insurer_supervisor", "county_reviewer")
        # an officer's: those they may record (the list /followups shows them), the others left to other officers
        overdue, due, others = followup_service.home_counts(session, user, today, mine=mine)
        card("逾期未回访", "/followups", overdue, "保障金到账后超过合同期限、尚未回访")
        card("待回访", "/followups", due, "保障金已到账、在期限内待回访"
             + (f"；另有 {others} 户须由其他核查员回访（见本县全部）" if others else ""))
    if user.has("county_reviewer"):
        card("未收到救助金待核实", "/receipt-alerts", receipt.open_count(session, user),
             "回访时农户称未收到或只收到部分保障金，待县级审核人员核实")
        card("回访待县级复核", "/setter-followups?to_decide=1", len(alone_look.waiting(session, user).mine),
             "本县没有其他核查员时由登记收款账户的人员独自录入的回访，须由未参与支付的县级审核人员确认或退回")
    if user.has(*need_service.READERS) and not user.has("auditor"):
        still, late = need_figures.count_open(session, user, today)
        card("转交部门待答复", "/need-referrals", still, "已转交责任部门、尚未答复的需求")
        card("部门逾期未答复", "/need-referrals?state=overdue", late)
    cards.extend(payment_cards(session, user, counts, vault, today))
    cards.extend(sampling_cards(session, user))
    if user.has(*conflict_service.READERS):
        card("跨县登记冲突", "/conflicts", conflict_service.count_conflicts(session, user),
             "在本县被转介或核查、家庭却登记在外县的人员")
    if user.has("county_reviewer"):
        card("名册待第二人确认", "/roster?to_decide=1", roster_comparison.pending_count(session, user),
             "导入的脱贫户和监测对象名册，须由导入人以外的县级复核员核对变化后确认才生效")
        card("比对名单待第二人确认", "/registers?to_decide=1", len(register_confirmation.waiting(session, user).mine),
             "导入的部门比对名单，须由导入人以外的县级复核员核对变化后确认才参与比对")
        card("导入部门比对名单", "/registers", None, "车辆、市场主体、商品房、财政供养、存款、医保结算")
    if user.has(*REPORT_READERS):
        card("月度报表", "/reports", None, "本县每月的核查、认定、公示、支付和资金")
    if user.has("county_reviewer"):
        card("一账多户待核实", "/shared-accounts", one_account.count_open(session, user, today),
             "多户共用同一收款账户，核实前暂缓支付")
    if user.has(*recusal_service.ADMIN):
        card("回避移除待确认", "/recusal", recusal_service.count_removals_to_decide(session, user),
             "申请移除的回避申报，须由申报人和申请人以外的管理员确认")
    if user.has(*look_list.READERS):
        card("查阅记录", "/personal-views", None, "谁查看了农户的证明材料、一户一档和完整电话（查阅留痕）")
    if user.has("auditor", "county_reviewer", "admin"):
        latest = latest_checkpoint(session)
        card("审计日志", "/audit", audit_log.tree_size(session),
             f"最新签名检查点覆盖 {latest.tree_size} 条记录" if latest else "尚无签名检查点")
    return cards


class HomePage(Controller):
    path = "/"

    @get("/", opt=OPEN_BEFORE_ROLE)
    def home(self, ctx: Ctx, request: Req,
             period: Annotated[str, Parameter(pattern=r"^(\d{4}(-(0[1-9]|1[0-2]))?)?$")] = "",
             county: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "") -> Template:
        """The user's tasks; for a county reviewer or an insurer supervisor, the county's dashboard above them
        (`period`: YYYY or YYYY-MM, this year by default; `county`: one of the user's, else 404)."""
        user = request.user
        today = ctx.clock.today()
        if not user.holds_role:
            # Its roles wait for a second administrator (or a password reset suspended them): which ones, and
            # nothing of any case (every other page refuses it, accounts/auth.py BEFORE_ROLE).
            with ctx.db.read() as session:
                waiting = grants.pending_roles(session, [user.id]).get(user.id, [])
            return page(request, "home.html", no_role=True, waiting=waiting, today=today)
        board = None
        with ctx.db.read() as session:
            if user.has(*dashboard_service.VIEWERS):
                board = dashboard_page.build(session, user, county=county or None,
                                             period=dashboard_service.parse_period(period, today), today=today)
            shares, share_names, flagged = None, {}, []
            if board is not None:  # whose visits were hand-picked, in the dashboard's county
                shares = case_service.hand_picked_shares(session, user, since=today - timedelta(days=HAND_PICKED_DAYS),
                                                         county_code=board.county_code)
                # the hand-picked visits a county reviewer should look at, with why (cases/hand_picked.py)
                flagged = (hand_picked.to_review(session, user, since=today - timedelta(days=HAND_PICKED_DAYS),
                                                 county_code=board.county_code)
                           if user.has("county_reviewer") else [])
                flagged = [{**f, "texts": stagelabels.hand_picked_reasons(f)} for f in flagged]
                share_names = user_names(session, [s["user_id"] for s in shares]
                                         + [o for f in flagged for o in (f["planned_by"], *f["officers"])])
            cards = _tasks(session, user, today, ctx.vault)
            counts = count_by_status(session, user)
            feeds = feed_rows(session, user, today) if user.has("county_reviewer") else []
            # Screen-outs one clerk proposed on bureau-referred cases, waiting for a second person (cases/service.py)
            proposals = screen_out_proposals(session, user) if user.has(*SCREEN_OUT_CONFIRMERS) else []
            # Failed village reviews one clerk recorded for eligible households, waiting for a second person
            review_proposals = (review_fail_proposals(session, user) if user.has(*REVIEW_FAIL_CONFIRMERS) else [])
            names = user_names(session, {p["proposed_by"] for p in proposals + review_proposals})
            # People refused by 回避 again and again lately: a probe of whose kin the households are (recusal/refusals.py)
            probes = (recusal_refusals.probing(session, user, ctx.clock.now())
                      if user.has(*recusal_refusals.READERS) else [])
        summary = [(STATUS_LABELS.get(s, s), s, counts.get(s, 0)) for s in STATUS_LABELS if counts.get(s)]
        return page(request, "home.html", cards=cards, summary=summary, today=today, board=board,
                    roles=list(user.roles), feeds=feeds, proposals=proposals, review_proposals=review_proposals,
                    names=names, shares=shares, share_names=share_names, share_days=HAND_PICKED_DAYS,
                    flagged=flagged, probes=probes, probe_days=recusal_refusals.PROBE_WINDOW.days)
