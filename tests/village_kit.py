"""What a village review meeting and a notice's posting need in tests: an attendance that lets the meeting decide,
a signed minutes scan, and a photo of the notice on the wall taken on a given day (notices/posting.py)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from typing import Any

from recheck_kit import dated_photo

from verifier.clock import SCHEME_TZ, FixedClock
from verifier.notices import posting
from verifier.notices.models import Notice

_serial = itertools.count(1)

MEMBERS = "7"
ATTENDEES = "王村支书（村支书）\n李主任（村主任）\n赵委员（村委委员）\n钱代表（村民代表）\n孙代表（村民代表）"


def minutes_scan() -> bytes:
    """A scan of signed minutes with the attendance sheet (a PDF; unique bytes)."""
    return f"%PDF-1.4\n% village meeting minutes {next(_serial)}, signed\n%%EOF\n".encode()


def meeting_files() -> dict[str, Any]:
    """The meeting form's file field, for `client.post(..., files=...)`."""
    return {"minutes_scan": ("评议会记录.pdf", minutes_scan(), "application/pdf")}


def wall_photo(day: date) -> bytes:
    return dated_photo(f"{day:%Y:%m:%d} 10:30:00")


def sealed(ctx: Any, data: bytes) -> posting.Upload:
    return posting.accept(data, None, evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                        max_bytes=ctx.settings.max_upload_bytes)


def wall_reviewer(ctx: Any, county: str = "340223") -> Any:
    """A county reviewer who decided and recorded nothing of the notice's households: the one person who may confirm
    the posting of any notice, even one listing households passed by a review recorded on its own."""
    from verifier.accounts.auth import principal_of
    from verifier.accounts.service import add_user
    from verifier.store.tables import User

    with ctx.db.begin() as session:
        user = session.query(User).filter_by(username=f"f-wall-{county}").one_or_none()
        if user is None:
            user = add_user(session, username=f"f-wall-{county}", password="factory-password",
                            roles=["county_reviewer"], counties=[county], clock=ctx.clock)
        return principal_of(user)


def confirm_posting(ctx: Any, notice_id: str, confirmer: Any = None, day: date | None = None) -> None:
    """A second person (by default `wall_reviewer`) photographs the notice on the wall on `day` (the day it went up
    by default) and confirms its posting (service level)."""
    confirmer = confirmer or wall_reviewer(ctx)
    with ctx.db.begin() as session:
        if day is None:
            day = session.get(Notice, notice_id).posted_on
        # sent from the village that day (the server's receipt counts: `domain.photo_times.wall_photo_standing`)
        posting.upload_wall_photo(session, notice_id, sealed(ctx, wall_photo(day)), principal=confirmer,
                                  clock=FixedClock(datetime.combine(day, time(15, 0), SCHEME_TZ)))
        posting.confirm_posting(session, notice_id, note="到村看到公示已张贴，查阅了村里的评议记录", principal=confirmer,
                                clock=ctx.clock)


def attendance(ctx: Any, attendees: str = ATTENDEES) -> dict[str, Any]:
    """A `MeetingRequest`'s attendance and signed minutes (service level): 7 on the body, 5 named present."""
    return {"members_expected": int(MEMBERS), "attendees": attendees, "minutes_scan": sealed(ctx, minutes_scan())}
