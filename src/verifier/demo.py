"""Demo data for `verifier init --demo`: a demo county, its users, and cases at every stage built so far."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from .accounts.service import add_user
from .context import Context
from .store.tables import User

DEMO_COUNTY = "340223"
DEMO_PASSWORD = "demo-pass-2020"
DEMO_USERS = [
    ("officer1", "核查员 王强", ["field_officer"]),
    ("officer2", "核查员 李娜", ["field_officer"]),
    ("officer3", "核查员 张伟", ["field_officer"]),
    ("officer4", "核查员 刘洋", ["field_officer"]),
    ("supervisor", "主管 陈静", ["insurer_supervisor"]),
    ("claims", "理赔 杨帆", ["insurer_claims"]),
    ("finance1", "财务 赵敏", ["finance"]),
    ("finance2", "财务 孙丽", ["finance"]),
    ("clerk", "乡镇经办 周平", ["town_clerk"]),
    ("reviewer", "县复核 吴刚", ["county_reviewer"]),
    ("auditor", "审计 郑云", ["auditor"]),
    ("admin", "管理员", ["admin"]),
]


def load_demo(ctx: Context) -> Iterator[str]:
    """Load the demo once; a second run changes nothing and says so."""
    with ctx.db.begin() as session:
        if session.scalar(select(User.id).where(User.username == "admin")):
            yield "demo data already loaded"
            yield from _login_help()
            return
        for username, display, roles in DEMO_USERS:
            add_user(session, username=username, password=DEMO_PASSWORD, roles=roles,
                     counties=[] if "admin" in roles or "auditor" in roles else [DEMO_COUNTY],
                     display_name=display, clock=ctx.clock)
    yield f"demo county {DEMO_COUNTY}: {len(DEMO_USERS)} users loaded"
    yield from _login_help()


def _login_help() -> Iterator[str]:
    yield f"log in as any of: {', '.join(u for u, _, _ in DEMO_USERS)} — password {DEMO_PASSWORD}"
