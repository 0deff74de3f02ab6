"""The browser pages: one router for every page (HTML errors, login redirects, no OpenAPI), plus static files.

Every page belongs in PAGES, so it gets the same error pages and login redirect.
"""

from __future__ import annotations

from typing import Any

from litestar import Router, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from .attempts import VisitAttemptPages
from .audit import AuditPages
from .caching import NoStoreMiddleware
from .cases import CasePages
from .clerk import ApplicationPages, NoticePages, ObjectionPages
from .conflicts import ConflictPages
from .recusal_refusals import RecusalRefusalPages
from .contracts import ContractPages
from .deviations import HoldProposalPages, RecoveryPages, RedeterminationPages
from .errors import EXCEPTION_HANDLERS
from .account import AccountPages
from .followups import FollowupPages
from .home import HomePage, LoginPages
from .household_changes import HouseholdChangePages
from .household_proposals import HouseholdProposalPages
from .households import HouseholdPages
from .late_bills import LateBillPages
from .officer import CheckPages, RouteSheetPages, VisitPages
from .payees import PayeeChangePages, PayeePages
from .payments import BatchChoicePages, FundPages, PaymentPages
from .meetings import MeetingPages
from .notice_posting import NoticePostingPages
from .needs import NeedPages
from .places import PlacePages
from .registers import FindingPages, RegisterPages
from .reports import ReportPages
from .sampling import SamplingPages
from .security import PageCSRFMiddleware
from .receipts import ReceiptAlertPages
from .alone_looks import SetterFollowupPages
from .personal_views import PersonalViewPages
from .shared_accounts import SharedAccountPages
from .supervisor import DeterminationPages, ImportPages, SchedulePages
from .recusal import OwnRecusalPages, RecusalAdminPages
from .staff_accounts import AdminAccountPages, OwnAccountPages
from .templating import STATIC_DIR, static_url
from .role_grants import RoleGrantPages, UserRolePages
from .roster import RosterPages
from .users import UserPages

PAGES: list[Any] = [LoginPages, AccountPages, HomePage, CasePages, ApplicationPages, NoticePages, ObjectionPages, SchedulePages,
                    DeterminationPages, ImportPages, VisitPages, RouteSheetPages, CheckPages, LateBillPages,
                    VisitAttemptPages,
                    AuditPages, BatchChoicePages, PaymentPages, PayeePages, PayeeChangePages, SharedAccountPages, FundPages,
                    SamplingPages, ReportPages, UserPages, UserRolePages, RoleGrantPages, OwnRecusalPages,
                    RecusalAdminPages, OwnAccountPages, AdminAccountPages, ConflictPages, RecusalRefusalPages, PlacePages, MeetingPages, NoticePostingPages, HouseholdPages,
                    HouseholdChangePages, HouseholdProposalPages, RecoveryPages, RedeterminationPages, HoldProposalPages, FollowupPages, ReceiptAlertPages, SetterFollowupPages, PersonalViewPages, NeedPages,
                    RegisterPages, FindingPages, ContractPages, RosterPages]



@get("/favicon.ico", opt={"public": True}, sync_to_thread=False, include_in_schema=False)
def favicon() -> Redirect:
    """A browser asks /favicon.ico on its own where a page names no icon (a meeting's scanned minutes shown alone,
    an evidence photo): the site's icon, not a 404 in the console."""
    return Redirect(path=static_url("favicon.svg"), status_code=302)


# Gzip: a page of the check form is a sixth of its size on a village's slow connection. (Uploads are not touched.)
GZIP = DefineMiddleware(CompressionMiddleware, config=CompressionConfig(backend="gzip", minimum_size=1024,
                                                                      gzip_compress_level=6))

ROUTES: list[Any] = [
    # CSRF protects the pages' forms only; see security.py for why the API needs none. No page is cached (caching.py).
    Router(path="/", route_handlers=PAGES, exception_handlers=EXCEPTION_HANDLERS, include_in_schema=False,
           middleware=[NoStoreMiddleware, GZIP, PageCSRFMiddleware]),
    # Static file names carry a content version in their query string (see templating.static_url), so phones
    # may keep them for a long time and never fetch them again over a poor connection.
    create_static_files_router(path="/static", directories=[STATIC_DIR], opt={"public": True},
                               cache_control=CacheControlHeader(max_age=31_536_000, public=True),
                               include_in_schema=False, middleware=[GZIP]),
    favicon,
]
