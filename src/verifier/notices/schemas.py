"""Request and response shapes for village reviews, notices and objections (money as "0.00" strings)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

Text = Annotated[str, msgspec.Meta(max_length=2000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
County = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    held_on: date
    result: Literal["pass", "fail"]
    note: Text = ""


class ReviewOut(msgspec.Struct):
    id: str
    case_id: str
    held_on: date
    result: str
    note: str | None
    case_status: str
    closed_reason: str | None
    recorded_by: str
    recorded_at: datetime
    # A 未通过 is first a proposal: the case stays determined until another clerk or the county reviewer confirms it.
    awaiting_second_person: bool = False


class NoticeIn(msgspec.Struct, forbid_unknown_fields=True):
    county_code: County
    town: Short
    posted_on: date
    village: Short | None = None  # may be left out when the contract posts one notice per town
    contract_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None  # only when the cases span contracts
    # What the document prints; defaults: the town government, its office, the national supervision hotline.
    issuing_body: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    objection_place: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    objection_phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    number: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class NoticeItemOut(msgspec.Struct):
    id: str
    seq: int
    case_id: str
    village: str
    head_name: str
    household_size: int
    cause: str
    cause_label: str
    relief_amount: str
    status: str  # listed | withdrawn (an objection was upheld) | cleared (the notice closed)


class ObjectionOut(msgspec.Struct):
    id: str
    notice_id: str
    case_id: str
    received_on: date
    summary: str
    status: str  # open | upheld | dismissed
    recorded_by: str
    recorded_at: datetime
    resolution_note: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    case_status: str | None = None
    raised_by: str | None = None  # anonymous | household | relative | neighbour | villager | village_cadre | other
    received_via: str | None = None  # in_person | phone | letter | box
    resolved_on: date | None = None


class NoticeBrief(msgspec.Struct):
    id: str
    county_code: str
    town: str
    village: str | None
    scope: str
    contract_id: str
    title: str
    posted_on: date
    ends_on: date
    status: str  # open | closed
    period_over: bool  # today is after ends_on: the notice may be closed once no objection is open
    households: int
    persons: int
    total: str
    document_sha256: str
    posted_by: str
    posted_at: datetime
    closed_on: date | None
    open_objections: int


class WallPhotoOut(msgspec.Struct):
    sha256: str
    content_type: str
    captured_at: str | None  # as the camera wrote it
    taken_on: date | None  # Asia/Shanghai
    in_period: bool  # counts for the posting's confirmation: taken within the notice period, received in time
    standing: str  # in_period, or why not: no_time, outside_period, after_upload, uploaded_late
    uploaded_by: str
    uploaded_at: datetime


class PostingOut(msgspec.Struct):
    """Whether a second person confirmed the notice went up on the wall; until then its cases are paid by no batch."""

    needs_confirmation: bool  # false for notices posted before the confirmation was asked
    awaiting_second_person: bool
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    note: str | None = None
    # confirmed by the county reviewer on the note alone, no photo of the period (its audit entry says so too)
    without_dated_photo: bool = False
    photos: list[WallPhotoOut] = []


class PostingConfirmationIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Text = ""
    # the county reviewer confirms although no photo was taken in the notice period (the note says how they verified)
    without_dated_photo: bool = False


class LeftOutOut(msgspec.Struct):
    """A case of the village not put on this notice (told to its poster only): `reason` is neutral."""

    case_id: str
    reason: str


class NoticeOut(NoticeBrief):
    issuing_body: str = ""
    objection_place: str = ""
    objection_phone: str = ""
    number: str | None = None
    mask_names: bool = False
    items: list[NoticeItemOut] = []
    objections: list[ObjectionOut] = []
    posting: PostingOut | None = None
    left_out: list[LeftOutOut] = []  # in the answer to posting it only


class NoticePage(msgspec.Struct):
    items: list[NoticeBrief]


class ObjectionIn(msgspec.Struct, forbid_unknown_fields=True):
    case_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    received_on: date
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    raised_by: Literal["anonymous", "household", "relative", "neighbour", "villager", "village_cadre", "other"] | None = None
    received_via: Literal["in_person", "phone", "letter", "box"] | None = None


class ResolutionIn(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Literal["upheld", "dismissed"]
    note: Text = ""
    resolved_on: date | None = None
