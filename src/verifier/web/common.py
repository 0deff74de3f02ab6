"""What every page shares: the navigation, rendering with the user and the form state, redirects, form errors."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeAlias
from urllib.parse import urlencode

from litestar import Request
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from ..accounts import service as account_service
from ..accounts.auth import BEFORE_ROLE, PASSWORD_CHANGE, Principal
from ..audit import service as audit_service
from ..contract_review import reads as contract_reads
from ..domain.errors import DomainError, FieldError, ValidationFailed
from . import labels, stagelabels as sl
from .typed import day_parts, typed_day

Req: TypeAlias = Request[Principal, Any, Any]

ANY: dict[str, Any] = {"roles": "any"}  # any account holding a confirmed role (accounts/auth.py)
# The pages open to an account whose password an administrator set: changing it, and logging out (and to an account
# holding no confirmed role yet).
OPEN_BEFORE_CHANGE: dict[str, Any] = {"roles": "any", PASSWORD_CHANGE: True, BEFORE_ROLE: True}
# The home page: open to an account holding no confirmed role yet, which it tells that its role waits for a second
# administrator (and shows nothing of any case).
OPEN_BEFORE_ROLE: dict[str, Any] = {"roles": "any", BEFORE_ROLE: True}
PUBLIC: dict[str, Any] = {"public": True}
CLERK: dict[str, Any] = {"roles": ("town_clerk",)}
SUPERVISOR: dict[str, Any] = {"roles": ("insurer_supervisor",)}
OFFICER: dict[str, Any] = {"roles": ("field_officer",)}
IMPORTERS: dict[str, Any] = {"roles": ("insurer_supervisor", "county_reviewer")}
AUDIT_READERS: dict[str, Any] = {"roles": audit_service.READERS}


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str | None  # None: a page still being built; shown greyed out so users know it is coming
    roles: tuple[str, ...] | str


NAV: tuple[NavItem, ...] = (
    NavItem("首页", "/", "any"),
    NavItem("我的走访", "/visits", ("field_officer",)),
    NavItem("回访", "/followups", ("field_officer", "insurer_supervisor", "county_reviewer", "auditor")),
    NavItem("转交部门", "/need-referrals", ("field_officer", "insurer_supervisor", "county_reviewer", "auditor")),
    NavItem("案件", "/cases", "any"),
    NavItem("录入申请", "/applications/new", ("town_clerk",)),
    NavItem("村级评议会", "/meetings/new", ("town_clerk",)),
    NavItem("公示", "/notices", ("town_clerk", "insurer_supervisor", "county_reviewer", "auditor", "admin")),
    NavItem("排期", "/schedule", ("insurer_supervisor",)),
    NavItem("乡镇村名单", "/places", ("town_clerk", "insurer_supervisor", "county_reviewer", "admin")),
    NavItem("导入监测信息", "/referrals/import", ("insurer_supervisor", "county_reviewer")),
    NavItem("支付批次", "/payments", ("insurer_claims", "finance", "county_reviewer", "insurer_supervisor", "auditor")),
    NavItem("收款人变更", "/payee-changes", ("insurer_supervisor", "finance", "county_reviewer")),
    NavItem("一账多户", "/shared-accounts", ("county_reviewer",)),
    NavItem("未收到救助金", "/receipt-alerts", ("county_reviewer", "auditor")),
    NavItem("资金", "/fund", ("finance", "county_reviewer", "auditor")),
    NavItem("追回", "/recoveries", ("finance", "county_reviewer", "auditor")),
    NavItem("抽样复核", "/sampling", ("county_reviewer", "insurer_supervisor", "auditor")),
    NavItem("月报", "/reports", ("county_reviewer", "auditor", "insurer_supervisor", "finance")),
    NavItem("审计日志", "/audit", ("auditor", "county_reviewer", "admin")),
    NavItem("用户管理", "/users", ("admin",)),
    NavItem("角色授权", "/role-grants", ("admin", "county_reviewer")),
    NavItem("名册", "/roster", ("county_reviewer", "auditor")),
    NavItem("回避申报管理", "/recusal", ("admin",)),
    NavItem("回避拦截记录", "/recusal-refusals", ("county_reviewer", "auditor")),
    NavItem("服务合同", "/contracts", ("county_reviewer", "admin", "auditor", "insurer_supervisor")),
)


def nav_for(user: Principal | None) -> list[NavItem]:
    if user is None:
        return []
    if not user.holds_role:
        return []  # every page but its home and its password refuses an account holding no confirmed role
    return [n for n in NAV if n.roles == "any" or user.has(*n.roles)]


def current_user(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


@dataclass
class FormState:
    """What was typed (to show it again) and what is wrong with it, per field and in general."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, []).append(message)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.general)

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)


def import_file(data: Mapping[str, Any]) -> tuple[UploadFile | None, FormState]:
    """An import page's file and what else was typed; when no file was chosen, None and the form to show again
    with 请选择要导入的文件 under its file field."""
    upload = data.get("file")
    state = FormState(values={k: v for k, v in data.items() if isinstance(v, str)})
    if not isinstance(upload, UploadFile) or not upload.filename:
        state.add("file", "请选择要导入的文件（csv 或 xlsx）")
        return None, state
    return upload, state


def import_refused(values: Mapping[str, Any], exc: ValidationFailed,
                   fields: Iterable[str]) -> tuple[FormState, list[FieldError]]:
    """An import page's form after a refused file, and the errors of its rows (shown as the file's table): the
    others under their fields or in general."""
    in_rows = [e for e in exc.errors if e.row is not None]
    whole = ValidationFailed([e for e in exc.errors if e.row is None]) if len(in_rows) < len(exc.errors) else None
    return form_state(values, whole, fields), in_rows


def form_state(values: Mapping[str, Any] | None = None, exc: ValidationFailed | None = None,
               fields: Iterable[str] = (), rename: Mapping[str, str] | None = None) -> FormState:
    """The form's state after `exc`: each error under its field when the form has that field, otherwise general."""
    state = FormState(values={k: v for k, v in (values or {}).items() if isinstance(v, str)})
    known = set(fields)
    for e in (exc.errors if exc else []):
        add_error(state, e, known, rename or {})
    return state


def add_error(state: FormState, e: FieldError, known: set[str], rename: Mapping[str, str]) -> None:
    name = rename.get(e.field, e.field)
    message = labels.message_zh(e.message)
    if name in known:
        state.add(name, message)
    else:
        state.general.append(labels.labelled(labels.field_label(name), message))


def layout_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What the layout (base.html) is given besides the message of `done`: all of it follows from the user and the
    address's path."""
    user = current_user(request)
    return {"user": user, "nav": nav_for(user), "path": request.url.path, "role_labels": labels.ROLE_LABELS,
            "blank": FormState()}


def done_message(request: Request[Any, Any, Any]) -> str | None:
    """The message of the address's `done` (after a form was saved), if any."""
    return labels.DONE_MESSAGES.get(request.query_params.get("done") or "")


def page(request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any) -> Template:
    if "done" in context:  # the follow-ups' list once drew its rows' repr as the flash message, and hid 回访已记录
        raise TypeError("`done` is the layout's message of what was just done: give the page's value another name")
    return Template(
        template_name=template,
        status_code=status_code,
        media_type="text/html",  # whatever the handler's declared return type
        context={**layout_context(request), "done": done_message(request),
                 "form_page": form_page(request, status_code), **context},
    )


def form_page(request: Request[Any, Any, Any], status_code: int) -> str | None:
    """The address a refused form's answer stands in the browser's history as (app.js: `history.replaceState`): the
    page of this site the form was sent from, else the form's own address. Pages are never cached (caching.py), so
    Back or Forward onto the answer of a POST would show the browser's own 确认重新提交表单 page; under a GET address
    they load the form's page again instead. The answer itself still shows everything as typed. None for any other
    answer (a GET, a success's redirect, a part of a page htmx asked for)."""
    if request.method != "POST" or status_code < 400 or is_htmx(request):
        return None
    from urllib.parse import parse_qsl, urlsplit

    came = urlsplit(request.headers.get("referer", ""))
    if came.path and came.netloc == request.headers.get("host", "") and came.scheme in ("http", "https"):
        # without `done`: the earlier success's message is not said again when the page loads anew
        query = urlencode([(k, v) for k, v in parse_qsl(came.query, keep_blank_values=True) if k != "done"])
        return safe_next(came.path + (f"?{query}" if query else ""))
    return request.url.path


def see_other(path: str, **query: Any) -> Redirect:
    """After a successful POST: 303 to the page showing the result (a reload does not post again)."""
    q = {k: v for k, v in query.items() if v is not None}
    # a fragment (`/notices/n1#posting`) goes last: after it, the query would be the fragment's and the page would
    # never read `done` (the photo uploaded without its message)
    path, hash_, fragment = path.partition("#")
    return Redirect(path=path + (("?" + urlencode(q)) if q else "") + hash_ + fragment, status_code=303)


def refusal_page(render: Callable[..., Template], exc: DomainError, *, fields: Mapping[str, str] | None = None,
                 **keep: Any) -> Template:
    """A list's row form refused, its page drawn again by `render` with why in Chinese (a 422 naming each field, by
    `fields`' words where the form labels it otherwise; a 403, 404 or 409 as the service said it) and `keep` (what
    was typed)."""
    if isinstance(exc, ValidationFailed):
        named = fields or {}
        message = "；".join(f"{named.get(e.field) or sl.field_zh(e.field)}：{sl.zh(e.message)}" for e in exc.errors)
        return render(status_code=422, message=message, **keep)
    return render(status_code=exc.status, message=sl.zh(exc.detail), **keep)


def import_outcome(request: Request[Any, Any, Any], done: tuple[str, str]) -> tuple[str, bool] | None:
    """Which import a successful file led to (Post/Redirect/Get: Back, Forward and a reload then show a normal page,
    never the browser's 确认重新提交表单): the import's id, and whether the file was the same again (`done` is
    (imported, the same file again)). The address carries nothing else: what the import brought in is read back from
    the store by the page's stage service, which says nothing of an import the viewer may not see or did not run.
    None when the address names no import."""
    said = request.query_params.get("done")
    import_id = request.query_params.get("import") or ""
    if said not in done or not import_id or len(import_id) > 40:
        return None
    return import_id, said == done[1]


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def clean(value: Any) -> str:
    """Text as typed, trimmed: only composed to NFC, so full-width punctuation (，（）：) stays as the clerk typed it."""
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFC", value).strip()


def confirmed(data: Any) -> bool:
    """Whether the form's confirmation box (`confirm=yes`) was ticked: an action that cannot be undone asks for it,
    so a stray click or a double click never does it."""
    return isinstance(data, dict) and data.get("confirm") == "yes"


def folded(value: Any) -> str:
    """A number, date, code or ID number as typed, trimmed, with full-width digits, letters and signs folded to
    ASCII (phones type them with some IMEs): "２０２０－０６－０１" is 2020-06-01."""
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFKC", value).strip()


def parse_day(value: Any, field_name: str, problems: list[FieldError], *, required: bool = True) -> date | None:
    """A day of a page's form, in any of the ways offices write one (`typed.typed_day`: 2026/12/5, 2026年12月5日,
    20261205 …); a missing or unreadable day is a problem of `field_name`."""
    text = typed_day(value)
    if not text:
        if required:
            problems.append(FieldError(field_name, "必填"))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        parts = day_parts(text)
        if parts is not None:  # written as a day, but the calendar has no such day (2026/2/30, 2026-13-01)
            problems.append(FieldError(field_name, "没有这一天：{:04d}年{}月{}日，请核对月份和日期".format(*parts)))
        else:
            problems.append(FieldError(field_name, "日期格式应为 年-月-日，如 2026-12-05 或 2026年12月5日"))
        return None


SYSTEM = "system"  # the actor and role of entries no person made


def user_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """The display names of these users (and 系统 for the system's own entries), to show instead of their ids."""
    names = {SYSTEM: labels.ROLE_LABELS[SYSTEM]}
    wanted = {i for i in ids if i} - {SYSTEM}
    names.update(account_service.display_names(session, wanted))
    return names


def counties_of(session: Session, user: Principal) -> list[str]:
    """The counties a user may pick from: their own, or every county under a contract when unrestricted."""
    return contract_reads.counties_for(session, user)


# A case's stored id in a refusal (案件 case_0174…): a page names the case by its number instead. The id as
# `store.base.new_id` makes it (26 hex digits), standing alone: right against Chinese text (which `\b` takes for
# word characters), never a part of a longer name (`case_added`).
CASE_ID = re.compile(r"(?<![0-9A-Za-z_])case_[0-9a-f]{26}(?![0-9A-Za-z_])")


def numbered(session: Session, message: str | None) -> str | None:
    """`message` with each case's stored id replaced by the case's number (本案件 when it has none)."""
    if not message or not CASE_ID.search(message):
        return message
    from ..cases.numbers import numbers_of

    numbers = numbers_of(session, CASE_ID.findall(message))
    return CASE_ID.sub(lambda m: numbers.get(m.group(0)) or "本案件", message)
