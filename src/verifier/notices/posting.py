"""The village's steps attested by more than one person (村级评议与公示张贴的第二人确认).

One town clerk may record a village review meeting and post its notice: a town with one clerk must work. What that
clerk could do alone was invent both: a meeting nobody held and a notice nobody put up, after which the notice period
ran out in silence and the cases went on to payment. So:

- a meeting keeps its attendance (the body's size and the attendees by name, at least two thirds of it,
  `domain/village_meeting.py`) and the scan of its signed minutes (`minutes`, a `village_file`, sealed like a check's
  evidence; meetings.py asks for both);
- a notice's posting on the wall is attested by photos of it (`wall_photo`) and **confirmed by a second person**:
  someone who neither posted the notice nor recorded the village review of any of its households (nor the meeting
  that decided it), nor decided any of them for the insurer (confirmed its determination, or went on its home
  check, chose its officers or sent its check back): another clerk of the county, the county reviewer, or an
  officer or supervisor of the insurer who had no part in these households (where a town has one clerk, it is one
  of these). The confirmation needs at least one photo whose camera capture time (Asia/Shanghai) falls within the
  notice period and which the server received no earlier than that day and no later than three days after the
  period (`domain.photo_times.wall_photo_standing`: a phone's clock set back to photograph the wall weeks later, or
  set forward, does not make a photo of the period); without one (a notice open at the upgrade whose period had ended, or nobody photographed it in
  time) only the county reviewer confirms, with a note saying how the posting was verified, and the audit entry and
  the notice's page say it was confirmed without a dated photo (else its cases would be held from payment for good);
- a household passed by a review recorded on its own (`POST /api/cases/{id}/village-review`, the case page: no
  attendance, no signed minutes) has only its recorder's word for the village's meeting: the posting of a notice
  listing one is confirmed only by the county reviewer (403 naming the households for anyone else), with a note
  saying how they satisfied themselves of those reviews (422 without).

Until the posting is confirmed the notice runs and closes as documented (INTERFACE.md), but its cleared cases are
paid by no batch (`UNCONFIRMED_CASES`, used by payments/service.py): nothing is refused that others rely on, and no
money moves on one person's word. Notices closed before this was asked (`posting_needs_confirmation` false,
migration 0042) hold nothing; those still open then wait for their second person like any other.

Files are kept as a check's evidence is: the row first, the sealed file after (`Upload.keep`), so a refused upload
leaves no file behind. The file is written before the COMMIT: a COMMIT that fails leaves it on disk with no row
naming it, never served (reads go through the row) and reused if the same file is sent again. A meeting's form
refused for something else (too few attendees, a household without its result) keeps its accepted scan the same way,
sealed on disk with no row (`hold`), and hands back its hash with a token binding it to the clerk and the village
(`held_token`): sent again, the form reads the file back (`reopen_held`) instead of asking for it over a poor
connection. Such a file is served by nobody and counts for no meeting until a meeting's row names it; a hash
without its token (another village's, another clerk's, one read from a link) is refused.

What it does not stop: the clerk and the second person acting together, a camera's clock set back by someone who
photographs the wall during the period or within three days of its end, a signature imitated on the minutes. The files are kept and shown, so an invented meeting takes deliberate forgery by two.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import second_person
from ..accounts.auth import Principal
from ..audit import log as audit
from ..checks import evidence_files
from ..checks.service import accepted_file, captured_at
from ..clock import Clock
from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain import photo_times
from ..domain import recusal as recusal_rules
from ..domain.photo_times import taken_on
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK, password_links
from ..store.base import new_id
from ..store.tables import Check, Determination, Evidence, Visit
from ..second_person import Waiting
from ..store.vault import Vault
from .models import Notice, NoticeItem, VillageFile, VillageMeeting, VillageMeetingReview, VillageReview
from .reading import last_day, load_notice

# Who may confirm a notice's posting (never its poster, never the recorder of a review of its households), and who
# may upload a photo of it on the wall.
CONFIRMERS = ("town_clerk", "county_reviewer", "field_officer", "insurer_supervisor")
NOTE_LIMIT = 2000

# Cases cleared from a notice whose posting still waits for its second person: no batch pays them.
UNCONFIRMED_CASES = (select(NoticeItem.case_id).join(Notice, Notice.id == NoticeItem.notice_id)
                     .where(NoticeItem.status == "cleared", Notice.awaiting_second_person))


@dataclass(frozen=True)
class Upload:
    """An uploaded photo or scan accepted (its kind, hash and capture time read), not yet written anywhere: its row
    is added first, then `keep()` seals the file at rest (`checks/evidence_files.py`)."""

    sha256: str
    size: int
    content_type: str
    captured_at: str | None
    data: bytes = field(repr=False)
    evidence_dir: Path = field(repr=False)
    vault: Vault = field(repr=False)

    def keep(self) -> None:
        evidence_files.store(self.evidence_dir, self.vault, self.data, self.sha256)


def accept(data: bytes, declared_type: str | None, *, evidence_dir: Path, vault: Vault, max_bytes: int,
           field: str = "file") -> Upload:
    """Check an uploaded photo or scan as a check's evidence is checked (422 naming `field`); nothing is written."""
    try:
        actual, sha = accepted_file(data, declared_type, max_bytes)
    except ValidationFailed as exc:
        raise ValidationFailed.one(field, exc.errors[0].message) from None
    return Upload(sha, len(data), actual, captured_at(data, actual), data, evidence_dir, vault)


HELD_KIND = "held_minutes_scan"
HELD_REFUSED = "之前上传的会议记录文件已无法使用，请重新选择文件"
_SHA = re.compile(r"[0-9a-f]{64}")


def hold(sealed: Upload) -> None:
    """A refused meeting form's accepted scan sealed at rest (no row: served by nobody, no meeting's minutes)."""
    sealed.keep()


def held_token(vault: Vault, principal: Principal, place: tuple[str, str, str], sha256: str) -> str:
    """What lets the clerk who sent the scan for this village use it again (and nobody else, nowhere else)."""
    return vault.blind_index("|".join((principal.id, *place, sha256)), HELD_KIND)


def reopen_held(sha256: str, token: str, *, principal: Principal, place: tuple[str, str, str], evidence_dir: Path,
                vault: Vault, max_bytes: int, field: str = "minutes_scan") -> Upload:
    """The scan held by `hold` for this clerk and village, read back and checked again (422 naming `field` for a
    wrong token, a missing file or one that no longer opens)."""
    if not (_SHA.fullmatch(sha256 or "") and hmac.compare_digest(
            (token or "").encode(), held_token(vault, principal, place, sha256).encode())):
        raise ValidationFailed.one(field, HELD_REFUSED)
    data = evidence_files.read(evidence_dir, vault, sha256)
    if data is None:
        raise ValidationFailed.one(field, HELD_REFUSED)
    return accept(data, None, evidence_dir=evidence_dir, vault=vault, max_bytes=max_bytes, field=field)


def _refuse_reused(session: Session, sealed: Upload, field: str, *, meeting_id: str | None = None,
                   notice_id: str | None = None) -> VillageFile | None:
    """The same file sent again for the same owner (returned); refused when it already serves another meeting or
    notice, or is among the insurer's evidence of a case (one photo does not prove two villages' walls)."""
    existing = session.scalar(select(VillageFile).where(VillageFile.sha256 == sealed.sha256))
    if existing is not None:
        if (existing.meeting_id, existing.notice_id) == (meeting_id, notice_id):
            return existing
        raise ValidationFailed.one(field, "这个文件已用于另一次评议或另一份公示，请上传本次的文件")
    if session.scalar(select(Evidence.id).where(Evidence.sha256 == sealed.sha256).limit(1)) is not None:
        raise ValidationFailed.one(field, "这个文件是保险公司入户核查的证据，不能作为评议或公示的材料")
    return None


def attach_minutes(session: Session, meeting: VillageMeeting, sealed: Upload, *, principal: Principal,
                   clock: Clock) -> VillageFile:
    """The meeting's signed minutes' row (the caller audits the meeting, naming the file's hash, and keeps the file
    once nothing is left to refuse)."""
    found = _refuse_reused(session, sealed, "minutes_scan", meeting_id=meeting.id)
    if found is not None:
        return found
    row = VillageFile(id=new_id("vf"), kind="minutes", county_code=meeting.county_code, meeting_id=meeting.id,
                      sha256=sealed.sha256, size=sealed.size, content_type=sealed.content_type,
                      captured_at=sealed.captured_at, uploaded_by=principal.id, uploaded_at=clock.now())
    session.add(row)
    session.flush()
    return row


def standing(notice: Notice, captured: str | None, uploaded_at: datetime) -> str:
    """Whether a photo of the wall counts for the notice's posting (`photo_times.IN_PERIOD`), else why not: taken
    in the period by the camera's day, received by the server no earlier than that day and not long after the
    period (`domain.photo_times.wall_photo_standing`)."""
    return photo_times.wall_photo_standing(notice.posted_on, last_day(notice.ends_on), captured, uploaded_at)


def in_period(notice: Notice, photo: VillageFile) -> bool:
    return standing(notice, photo.captured_at, photo.uploaded_at) == photo_times.IN_PERIOD


def upload_wall_photo(session: Session, notice_id: str, sealed: Upload, *, principal: Principal,
                      clock: Clock) -> VillageFile:
    """A photo of the notice on the wall, until its posting is confirmed."""
    if not principal.has(*CONFIRMERS):
        raise Forbidden("只有乡镇经办人、县级复核员或保险公司核查人员可以拍摄公示照片")
    notice = load_notice(session, notice_id, principal, for_update=True)
    if notice.posting_confirmed_by is not None:
        raise InvalidState("公示张贴已确认，不再上传照片")
    recusal.refuse_cases(session, principal, list(session.scalars(select(NoticeItem.case_id).where(
        NoticeItem.notice_id == notice.id))), step="notice_photo", field="file", message=recusal_rules.NOTICE_RECUSED,
        clock=clock)  # 回避: the wall's evidence is not a relative's
    if not sealed.content_type.startswith("image/"):
        raise ValidationFailed.one("file", "公示张贴须上传照片（JPEG、PNG 或 WebP）")
    found = _refuse_reused(session, sealed, "file", notice_id=notice.id)
    if found is not None:
        sealed.keep()  # sent again: its file, should it be missing
        return found
    row = VillageFile(id=new_id("vf"), kind="wall_photo", county_code=notice.county_code, notice_id=notice.id,
                      sha256=sealed.sha256, size=sealed.size, content_type=sealed.content_type,
                      captured_at=sealed.captured_at, uploaded_by=principal.id, uploaded_at=clock.now())
    session.add(row)
    session.flush()  # the row first, the file after
    sealed.keep()
    audit.append(session, actor=principal.id, role=principal.acting_role(CONFIRMERS), action="notice.wall_photo",
                 subject=notice.id, county_code=notice.county_code, contract_hash=notice.contract_hash, clock=clock,
                 payload={"sha256": sealed.sha256, "size": sealed.size, "content_type": sealed.content_type,
                          "captured_at": sealed.captured_at, "taken_on": _iso(taken_on(sealed.captured_at)),
                          "in_period": in_period(notice, row), "standing": standing(notice, row.captured_at,
                                                                                     row.uploaded_at)})
    return row


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def wall_photos(session: Session, notice_id: str) -> list[VillageFile]:
    return list(session.scalars(select(VillageFile).where(VillageFile.notice_id == notice_id)
                                .order_by(VillageFile.uploaded_at, VillageFile.id)))


def village_recorders(session: Session, notice_id: str) -> set[str]:
    """Who recorded the village review of a household of the notice, or the meeting that decided it."""
    return recorders_of(session, [notice_id]).get(notice_id, set())


def _people_of(session: Session, notice_ids: Sequence[str], reads: Callable[[Any], list[Any]]) -> dict[str, set[str]]:
    """Per notice of `notice_ids`, the people the SELECTs `reads(on)` name (`on`: the notices' items), one statement
    each whatever the notices' count: each row the notice's id, then people (a user id, a list of them, or none)."""
    ids = sorted(set(notice_ids))
    return _people_on(session, reads(NoticeItem.notice_id.in_(ids))) if ids else {}


def _people_on(session: Session, statements: Sequence[Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for stmt in statements:
        for notice_id, *named in session.execute(stmt):
            people = out.setdefault(notice_id, set())
            for who in named:
                if isinstance(who, (list, tuple)):
                    people.update(who)
                elif who:
                    people.add(who)
    return out


def recorders_of(session: Session, notice_ids: Sequence[str]) -> dict[str, set[str]]:
    """`village_recorders` of each notice, by notice, in two statements whatever their count."""
    return _people_of(session, notice_ids, _recorder_reads)


def _recorder_reads(on: Any) -> list[Any]:
    return [select(NoticeItem.notice_id, VillageReview.recorded_by)
            .join(VillageReview, VillageReview.id == NoticeItem.review_id).where(on),
            select(NoticeItem.notice_id, VillageMeeting.recorded_by)
            .join(VillageMeetingReview, VillageMeetingReview.review_id == NoticeItem.review_id)
            .join(VillageMeeting, VillageMeeting.id == VillageMeetingReview.meeting_id).where(on)]


def item_people(session: Session, item_id: str) -> tuple[set[str], set[str]]:
    """For one household of a notice (its item): who recorded its village review or the meeting that decided it
    (`village_recorders`), and who decided its case for the insurer (`deciders`), in five statements."""
    on = NoticeItem.id == item_id
    recorders = _people_on(session, _recorder_reads(on))
    deciders = _people_on(session, _decider_reads(on))
    return set().union(*recorders.values()), set().union(*deciders.values())


def deciders(session: Session, notice_id: str) -> set[str]:
    """Who decided a household of the notice for the insurer: confirmed its determination, went on (or recorded) its
    home check, scheduled a visit to it (chose its officers, rescheduled ones included) or sent a check of it back.
    The insurer pays nothing, but its staff confirming the wall of the cases they found eligible would be one side
    vouching for its own decision."""
    return deciders_of(session, [notice_id]).get(notice_id, set())


def deciders_of(session: Session, notice_ids: Sequence[str]) -> dict[str, set[str]]:
    """`deciders` of each notice, by notice, in three statements whatever their count."""
    return _people_of(session, notice_ids, _decider_reads)


def _decider_reads(on: Any) -> list[Any]:
    return [select(NoticeItem.notice_id, Determination.confirmed_by)
            .join(Determination, Determination.case_id == NoticeItem.case_id).where(on),
            select(NoticeItem.notice_id, Visit.planned_by).join(Visit, Visit.case_id == NoticeItem.case_id).where(on),
            select(NoticeItem.notice_id, Check.officer_ids, Check.recorded_by, Check.sent_back_by)
            .join(Check, Check.case_id == NoticeItem.case_id).where(on)]


def bare_reviews(session: Session, notice_id: str) -> list[tuple[str, str]]:
    """(case id, head of household) of the notice's households still on it that passed by a village review recorded
    on its own, not at a meeting with its signed minutes."""
    return bare_reviews_of(session, [notice_id]).get(notice_id, [])


def bare_reviews_of(session: Session, notice_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """`bare_reviews` of each notice (those with any), by notice, in one statement whatever their count."""
    out: dict[str, list[tuple[str, str]]] = {}
    ids = sorted(set(notice_ids))
    if not ids:
        return out
    for notice_id, case_id, head, meeting in session.execute(
            select(NoticeItem.notice_id, NoticeItem.case_id, NoticeItem.head_name, VillageMeeting).join(
                VillageMeetingReview, VillageMeetingReview.review_id == NoticeItem.review_id, isouter=True)
            .join(VillageMeeting, VillageMeeting.id == VillageMeetingReview.meeting_id, isouter=True)
            .where(NoticeItem.notice_id.in_(ids), NoticeItem.status != "withdrawn")
            .order_by(NoticeItem.notice_id, NoticeItem.seq)):
        if signed_minutes(meeting) is None:
            out.setdefault(notice_id, []).append((case_id, head))
    return out


def signed_minutes(meeting: VillageMeeting | None) -> VillageMeeting | None:
    """The meeting a village review was decided at, if it has its signed minutes (its scan kept); None otherwise (a
    review recorded on its own, or at a meeting recorded before the minutes were asked): the one test of a review's
    basis (`review_basis`, `bare_reviews_of`)."""
    return meeting if meeting is not None and meeting.minutes_scan_sha256 else None


def review_basis(session: Session, notice_id: str) -> dict[str, VillageMeeting | None]:
    """For each household of the notice, the meeting its village review was decided at, if it has its signed minutes
    (None: a review recorded on its own, or at a meeting recorded before the minutes were asked)."""
    rows = session.execute(
        select(NoticeItem.case_id, VillageMeeting).join(
            VillageMeetingReview, VillageMeetingReview.review_id == NoticeItem.review_id, isouter=True)
        .join(VillageMeeting, VillageMeeting.id == VillageMeetingReview.meeting_id, isouter=True)
        .where(NoticeItem.notice_id == notice_id)).all()
    return {case_id: signed_minutes(m) for case_id, m in rows}


RECUSED_FROM_NOTICE = ("回避：该公示中有农户的家庭成员与您存在回避关系（与本户成员存在回避关系），您不能确认该公示的张贴："
                       "请由其他人员确认")


LINKED_TO_NOTICE = ("按“四眼原则”，您的账号与{part}的账号有密码关联" + PASSWORD_LINK
                    + "，张贴须由另一人确认")


def refuse_linked_confirmer(session: Session, notice: Notice, principal: Principal, clock: Clock | None) -> None:
    """The wall's four eyes held by one person through two accounts: an account linked by a password
    (`roster.service.password_links`) to the notice's poster, to a recorder of its village reviews or to a decider
    of its cases does not confirm its posting (403, kept on 回避拦截记录 under `notice_posting`, the notice as its
    subject), as those persons themselves do not."""
    recusal_refusals.refuse_linked(session, principal, "notice_posting", confirmer_parts(session, notice), clock=clock)


def confirmer_parts(session: Session, notice: Notice) -> list[recusal_refusals.LinkedPart]:
    """The accounts a posting's confirmer is the second person of: the deciders of its cases, the recorders of their
    village reviews, its poster."""
    return _parts(notice, deciders(session, notice.id), village_recorders(session, notice.id))


def _parts(notice: Notice, decided: set[str], recorded: set[str]) -> list[recusal_refusals.LinkedPart]:
    parts = {**{d: "参与了该公示中农户的入户核查或核定的人员" for d in decided},
             **{r: "录入了该公示中农户村级评议的人员" for r in recorded},
             notice.posted_by: "公示发布人"}
    return [recusal_refusals.LinkedPart(
        who, LINKED_TO_NOTICE.format(part=part), households=[], county_code=notice.county_code, subject=notice.id,
        extra={"notice_id": notice.id, "why": "password_linked"}) for who, part in sorted(parts.items())]


NOT_A_CONFIRMER = "只有乡镇经办人、县级复核员或保险公司核查人员可以确认公示张贴"
OWN_NOTICE = ("按“四眼原则”，公示由您发布，张贴须由另一人确认（本县另一名乡镇经办人、县级复核员，或未参与这些农户入户核查、"
              "核定的保险公司工作人员）")
RECORDED_REVIEW = "按“四眼原则”，您录入了该公示中农户的村级评议，张贴须由另一人确认"
DECIDED_CASES = ("按“四眼原则”，您参与了该公示中农户的入户核查或核定（含安排走访、选派核查员或退回核查），张贴须由"
                 "另一人确认")
BARE_REVIEWS = "{named}的村级评议是单独录入的（没有参会签到和签字的会议记录），该公示的张贴须由县级复核员核实后确认"


@dataclass(frozen=True)
class Refusal:
    """Why a user may not confirm a notice's posting (`text`, in Chinese, 403): through an account linked by a
    password (`linked`: kept on 回避拦截记录), or only because a household on it passed by a review recorded on its
    own (`bare`: for the county reviewer alone, asked after 回避)."""

    text: str
    linked: bool = False
    bare: bool = False


def named_bare(bare: Sequence[tuple[str, str]]) -> str:
    """The households of `bare_reviews` as a refusal names them (the first ten, and how many in all)."""
    return "、".join(f"{head}户" for _, head in bare[:10]) + (f"等 {len(bare)} 户" if len(bare) > 10 else "")


def confirms_refused(session: Session, notices: Sequence[Notice], principal: Principal) -> dict[str, Refusal | None]:
    """Why `principal` may not confirm each notice's posting (its state, photos and 回避 aside), by notice, None
    where nothing stands against it, in a fixed number of statements whatever their count: the one rule
    `confirm_posting` refuses by, the notice page shows instead of the button and the home page's card counts by
    (`waiting`). Not a confirmer; its poster; a recorder of its village reviews; a decider of its cases; an account
    linked to any of them by a password; anyone but the county reviewer while a household on it passed by a review
    recorded on its own."""
    if not principal.has(*CONFIRMERS):
        return {n.id: Refusal(NOT_A_CONFIRMER) for n in notices}
    ids = [n.id for n in notices]
    recorded, decided = recorders_of(session, ids), deciders_of(session, ids)
    bare = bare_reviews_of(session, ids) if not principal.has("county_reviewer") else {}
    parts = {n.id: _parts(n, decided.get(n.id, set()), recorded.get(n.id, set())) for n in notices}
    linked = password_links(session, principal.id, {p.user_id for ps in parts.values() for p in ps} - {""})
    out: dict[str, Refusal | None] = {}
    for n in notices:
        link = next((p for p in parts[n.id] if p.user_id in linked), None)
        out[n.id] = (Refusal(OWN_NOTICE) if principal.id == n.posted_by
                     else Refusal(RECORDED_REVIEW) if principal.id in recorded.get(n.id, ())
                     else Refusal(DECIDED_CASES) if principal.id in decided.get(n.id, ())
                     else Refusal(str(link.said), linked=True) if link is not None
                     else Refusal(BARE_REVIEWS.format(named=named_bare(bare[n.id])), bare=True) if bare.get(n.id)
                     else None)
    return out


def waiting(session: Session, principal: Principal) -> Waiting:
    """The notices awaiting their second person in the caller's counties, asked `confirms_refused` all at once: those
    the caller may confirm (what the home card counts and /notices?posting=to_decide lists) and how many others wait
    for someone else."""
    return second_person.waiting(session, principal, select(Notice).where(Notice.awaiting_second_person),
                                 Notice.county_code, confirms_refused)


def confirm_posting(session: Session, notice_id: str, *, note: str, principal: Principal, clock: Clock,
                    without_dated_photo: bool = False) -> Notice:
    """A second person confirms the notice went up on the wall (403 for its poster, a recorder of its village
    reviews or a decider of its cases, and for anyone but the county reviewer while a household on it passed by a
    review recorded on its own; 422 without a photo taken in the notice period, unless the county reviewer confirms
    `without_dated_photo` (asked for in so many words, 403 for anyone else) with a note saying how the posting was
    verified; 409 once confirmed)."""
    if not principal.has(*CONFIRMERS):
        raise Forbidden(NOT_A_CONFIRMER)
    notice = load_notice(session, notice_id, principal, for_update=True)
    if not notice.posting_needs_confirmation:
        raise InvalidState("该公示在张贴确认启用前发布，无需确认")
    if notice.posting_confirmed_by is not None:
        raise InvalidState("该公示的张贴已由他人确认")
    refusal = confirms_refused(session, [notice], principal)[notice.id]
    if refusal is not None and not refusal.bare:
        if refusal.linked:
            refuse_linked_confirmer(session, notice, principal, clock)  # kept on 回避拦截记录
        raise Forbidden(refusal.text)
    recusal.refuse_cases(session, principal, list(session.scalars(select(NoticeItem.case_id).where(
        NoticeItem.notice_id == notice.id))), step="notice_posting", message=RECUSED_FROM_NOTICE, clock=clock)  # 回避
    if refusal is not None:
        raise Forbidden(refusal.text)
    bare = bare_reviews(session, notice.id)
    named = named_bare(bare)
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise ValidationFailed.one("note", f"说明超过 {NOTE_LIMIT} 个字")
    if bare and not note:
        raise ValidationFailed.one("note", f"{named}的村级评议是单独录入的：请写明您如何核实了这些农户的村级评议"
                                           "（如查阅了纸质会议记录、向村委会核实）")
    photos = wall_photos(session, notice.id)
    dated = [p for p in photos if in_period(notice, p)]
    undated = not dated
    if undated and without_dated_photo and not principal.has("county_reviewer"):
        raise Forbidden("没有公示期内拍摄的张贴照片时，只能由县级复核员核实后确认")
    if undated and not without_dated_photo:
        raise ValidationFailed.one(
            "photos", f"须至少有一张在公示期内（{notice.posted_on} 至 {last_day(notice.ends_on)}）拍摄的张贴照片"
                      f"（按相机记录的拍摄时间，且不晚于公示期满后 {photo_times.WALL_UPLOAD_GRACE_DAYS} 天上传、"
                      f"拍摄日期不晚于上传日期）；已上传 {len(photos)} 张。没有这样的照片时，由县级复核员写明如何核实"
                      "后确认")
    if undated and not note:
        raise ValidationFailed.one(
            "note", f"没有在公示期内（{notice.posted_on} 至 {last_day(notice.ends_on)}）拍摄的张贴照片：请写明您如何"
                    "核实了公示确已张贴（如村委会的书面说明、之后拍到仍在墙上的照片）")
    now = clock.now()
    notice.posting_confirmed_by, notice.posting_confirmed_at, notice.posting_note = principal.id, now, note or None
    notice.posting_without_dated_photo = undated
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(CONFIRMERS), action="notice.posting_confirm",
                 subject=notice.id, county_code=notice.county_code, contract_hash=notice.contract_hash, clock=clock,
                 payload={"posted_by": notice.posted_by, "photos": [p.sha256 for p in photos],
                          "photos_in_period": [p.sha256 for p in dated],
                          **({"without_dated_photo": True} if undated else {}),
                          **({"bare_reviews": [case_id for case_id, _ in bare]} if bare else {}),
                          **({"note_sha256": audit.text_digest(note)} if note else {})})
    return notice


def posting_state(session: Session, notice: Notice) -> dict[str, Any]:
    """What the notice's page and the API show of its posting."""
    photos = wall_photos(session, notice.id)
    return {
        "needs_confirmation": notice.posting_needs_confirmation,
        "confirmed_by": notice.posting_confirmed_by, "confirmed_at": notice.posting_confirmed_at,
        "note": notice.posting_note,
        "awaiting_second_person": notice.awaiting_second_person,
        # confirmed by the county reviewer on their note alone, as it was decided at the confirmation
        "without_dated_photo": notice.posting_confirmed_by is not None and bool(notice.posting_without_dated_photo),
        "photos": [{"sha256": p.sha256, "content_type": p.content_type, "captured_at": p.captured_at,
                    "taken_on": taken_on(p.captured_at), "in_period": in_period(notice, p),
                    "standing": standing(notice, p.captured_at, p.uploaded_at),
                    "uploaded_by": p.uploaded_by, "uploaded_at": p.uploaded_at} for p in photos],
    }


def file_of(session: Session, principal: Principal, sha256: str, *, meeting_id: str | None = None,
            notice_id: str | None = None) -> VillageFile:
    """The minutes of the meeting `meeting_id` or a wall photo of the notice `notice_id`, for a reader of its county
    (404 for a file of another meeting or notice: the path's id is not decoration)."""
    row = session.scalar(select(VillageFile).where(VillageFile.sha256 == sha256))
    if row is None or (row.meeting_id, row.notice_id) != (meeting_id, notice_id) \
            or not principal.may_see_county(row.county_code):
        raise NotFound("公示照片不存在，或不在您的权限范围内")
    return row


def file_response(ctx: Any, principal: Principal, sha256: str, *, meeting_id: str | None = None,
                  notice_id: str | None = None) -> Any:
    """The bytes of a meeting's minutes or a notice's wall photo (`file_of`), for the API and the pages alike."""
    with ctx.db.read() as session:
        row = file_of(session, principal, sha256, meeting_id=meeting_id, notice_id=notice_id)
    return evidence_files.response(ctx.settings.evidence_dir, ctx.vault, row.sha256, row.content_type)
