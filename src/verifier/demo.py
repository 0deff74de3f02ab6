"""Demo data for `verifier init --demo`: a demo county, its users, and cases at every stage of the flow.

Everything goes through the real services (and so into the audit log). The demo works in the current year: when
no contract is in force for the demo county today, it adds one (`demo-<year>`, the terms of contracts/demo-2020.toml
over this year's dates, its file written to VERIFIER_HOME/contracts), and its events fall in the weeks before today;
the visits still to make are planned from the day it is loaded (the planner's first workday from it).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from .accounts.auth import Principal, principal_of
from .accounts.service import add_user
from .cases import service as cases
from .cases.workflow import load_case
from .checks import bills as check_bills
from .checks import service as checks
from .clock import Clock
from .context import Context
from .contract import Contract, check_contract_text
from .contract_review import service as contract_review
from .domain.idnumber import make_id_number
from .domain.income import HouseholdIncome, RigidExpenditure
from .domain.lifecycle import STATUS_LABELS_ZH
from .domain.money import format_yuan
from .domain.scheme_calendar import SCHEME_TZ
from .domain.sampling import commitment_of
from .notices import meetings, posting
from .notices import service as notices
from .payments import bankfiles, one_account, payees
from .payments import service as payments
from .payments.models import PaymentItem
from .places import county_file
from .referrals import service as referrals
from .sampling import flow as sampling
from .store import contracts as contract_store
from .store.tables import Case, User

DEMO_COUNTY = "340223"
DEMO_TERMS = Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml"
LEAD_DAYS = 60  # the demo's events span the weeks before today: its first referral is this many days back
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
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "秀英", "桂兰", "志强", "玉梅", "德明", "春花", "国华", "海燕", "文军", "小红", "长生"]
VILLAGES = [("城关镇", "东村"), ("城关镇", "西村"), ("城关镇", "南村"), ("河口镇", "河口村"), ("河口镇", "柳树村")]
# The demo county's list of towns and villages (its cases are in the first five; the others have none yet).
PLACES = [*VILLAGES, ("城关镇", "北村"), ("城关镇", "城关社区"), ("河口镇", "渡口村"), ("青山乡", "青山村"),
          ("青山乡", "石桥村")]


@dataclass
class Team:
    """The people who act in the demo and in tests: a clerk, a supervisor and a pair of field officers."""

    clerk: Principal
    supervisor: Principal
    officer1: Principal
    officer2: Principal


@dataclass
class Household:
    head: str
    id_numbers: list[str]
    town: str
    village: str
    group: str = "exited_low_standard"


_serial = itertools.count(1)


GUARDIAN_ACCOUNT = "6222020200112233445"  # one guardian's account, paid for two households' children


def own_account(hh: Household) -> str:
    """The household's own bank account (19 digits, ending 3445 as the demo's accounts always have), one per
    household: the demo pays no two households into one account (payments/one_account.py would hold them)."""
    digest = int(hashlib.sha256(hh.id_numbers[0].encode("ascii")).hexdigest(), 16)
    return f"622202{digest % 10**9:09d}3445"


def own_phone(hh: Household) -> str:
    """The household's mobile number (11 digits, 1 and a network's digit first), one per household: what the clerk
    takes down with the application, so the route sheet and the household file have a number to mask."""
    digest = int(hashlib.sha256(("phone:" + hh.id_numbers[0]).encode("ascii")).hexdigest(), 16)
    return f"1{'3589'[digest % 4]}{digest // 4 % 10**9:09d}"


def new_household(town: str, village: str, members: int = 3, group: str = "exited_low_standard") -> Household:
    n = next(_serial)
    born = date(1950, 1, 1) + timedelta(days=(n * 373) % 15000)
    ids = [make_id_number(DEMO_COUNTY, born + timedelta(days=400 * i), (n * 7 + i) % 1000) for i in range(members)]
    head = SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)]
    return Household(head, ids, town, village, group)


class OnDay(Clock):
    """The real time, on a day of the demo's history (what a step dated that day is entered on); with `at`, that
    time of the day itself (Asia/Shanghai), for a step whose rule reads the moment the server received it (a photo
    of a notice on the wall: `domain.photo_times.wall_photo_standing`). Such a step's audit entry carries that
    time too, so the demo's log has a few entries (`notice.wall_photo`) dated before entries written ahead of
    them: the demo enters weeks of history in a minute. A real server's clock only moves forward."""

    def __init__(self, clock: Clock, day: date, at: time | None = None) -> None:
        self.clock, self.day, self.at = clock, day, at

    def now(self) -> datetime:
        if self.at is not None:
            return datetime.combine(self.day, self.at, SCHEME_TZ).astimezone(timezone.utc)
        return self.clock.now()

    def today(self) -> date:
        return self.day


def refer(ctx: Context, team: Team, hh: Household, *, cause: str = "illness", amount: str = "30000.00",
          referred_on: date, county: str = DEMO_COUNTY, phone: str | None = None) -> str:
    """A household's own application, entered by the town clerk (with the household's `phone`, if given); returns the
    case id."""
    with ctx.db.begin() as session:
        result = referrals.enter_application(session, vault=ctx.vault, principal=team.clerk, clock=ctx.clock, payload={
            "county_code": county, "id_number": hh.id_numbers[0], "name": hh.head, "town": hh.town,
            "village": hh.village, "household_group": hh.group, "cause": cause, "amount": amount,
            "referred_on": referred_on.isoformat(), **({"phone": phone} if phone else {})})
    return result.case_ids[0]


def advance_to(ctx: Context, team: Team, case_id: str, hh: Household, stage: str, *, on: date, vehicle: str,
               cause: str = "illness", cost: int = 4_200_000, wages: int = 800_000, stable_income: bool = False,
               account_number: str | None = None, billed: bool = True, planned: bool = False) -> date:
    """Drive a received case to `stage`: screened, scheduled, checked or determined (every step on day `on`); the
    check lists the bill behind its cost unless `billed` is false (as a check recorded at the door without them).

    The visit is the team's officers' on day `on`, chosen by hand; or, `planned`, the planner's (`cases.plan` over
    the fortnight from `on`, as a supervisor plans the county's screened cases): its officers and day, the first
    workday with room, are then those of the check. Returns the visit's day."""
    order = ["screened", "scheduled", "checked", "determined"]
    officers, recorder = [team.officer1.id, team.officer2.id], team.officer1
    for step in order[: order.index(stage) + 1]:
        with ctx.db.begin() as session:
            if step == "screened":
                cases.screen(session, case_id, decision="pass", reason="", principal=team.clerk, clock=ctx.clock)
            elif step == "scheduled" and planned:
                county = session.get(Case, case_id).county_code  # type: ignore[union-attr]
                cases.plan(session, county_code=county, start=on, days=14, vehicles=[vehicle], apply=True,
                           principal=team.supervisor, clock=ctx.clock)
                visit = cases.active_visit(session, case_id)
                if visit is None:  # the demo's own data leave room: a case left unplanned is a bug
                    raise RuntimeError(f"the planner placed no visit for {case_id}")
                on, officers = visit.visit_on, list(visit.officer_ids)
                recorder = principal_of(session.get(User, officers[0]))
            elif step == "scheduled":
                cases.schedule(session, case_id, officers=officers, visit_on=on,
                               vehicle=vehicle, principal=team.supervisor, clock=ctx.clock,
                               reason="该村由本组核查员固定负责")
            elif step == "checked":
                basis = checks.cause_of(session, session.get(Case, case_id)).basis  # type: ignore[arg-type]
                rigid = RigidExpenditure(**{basis: cost})
                members = [{"name": hh.head if i == 0 else f"{hh.head[0]}{GIVEN[(i * 5) % len(GIVEN)]}",
                            "id_number": idn, "relation": "head" if i == 0 else ("spouse" if i == 1 else "child"),
                            "labour": "partial" if i == 0 else "full"} for i, idn in enumerate(hh.id_numbers)]
                data = checks.CheckInput(
                    visited_on=on, officers=officers, members=members,
                    income=HouseholdIncome(wages=wages), rigid=rigid, stable_income=stable_income,
                    payee={"account_name": hh.head, "bank": "农村商业银行",
                           "account_number": account_number or own_account(hh)},
                    cross_checks=[{"source": "medical_insurance", "finding": "consistent", "note": ""},
                                  {"source": "housing", "finding": "consistent", "note": ""}],
                    evidence=[], note="", bills=demo_bills(case_id, basis, cost) if billed else [])
                # Entered on its visit day, as the demo's history has it (a check entered more than a few days
                # after its visit needs a reason for the late entry: `domain.late_entry`).
                checks.record_check(session, case_id, data, vault=ctx.vault, principal=recorder,
                                    clock=OnDay(ctx.clock, min(on, ctx.clock.today())))
            else:
                checks.determine(session, case_id, confirm=True, principal=team.supervisor, clock=ctx.clock)
    return on


ISSUERS = {"medical": "县人民医院", "schooling": "县第一中学", "disaster": "乡镇人民政府灾情评估组", "other": "县残疾人联合会"}


def demo_bills(case_id: str, basis: str, cost: int) -> list[dict[str, str]]:
    """The bill behind a demo check's rigid expenditure (a determination counts only what bills back), numbered
    from the case so no two cases share one."""
    if not cost:
        return []
    kind = next(k for k, field in check_bills.KINDS.items() if field == basis)
    number = "FP" + hashlib.sha256(case_id.encode()).hexdigest()[:12].upper()
    return [{"kind": kind, "issuer": ISSUERS[kind], "number": number, "amount": format_yuan(cost)}]


def _principal(session, username: str) -> Principal:  # type: ignore[no-untyped-def]
    return principal_of(session.scalar(select(User).where(User.username == username)))


def demo_contract_text(today: date, terms: str) -> str:
    """The demo's terms (contracts/demo-2020.toml) as a contract in force today: this year's, starting early enough
    to hold the demo's events (in January and February it starts on 1 January of the year before)."""
    start = date((today - timedelta(days=LEAD_DAYS + 10)).year, 1, 1)
    end = date(today.year, 12, 31)
    text = re.sub(r'(?m)^id = "demo-2020"$', f'id = "demo-{today.year}"', terms)
    text = text.replace("2020年度", f"{today.year}年度")
    text = re.sub(r"(?m)^period = .*$", f"period = {{ start = {start.isoformat()}, end = {end.isoformat()} }}", text)
    return text.replace("# Demo service contract:", f"# Demo service contract for {today.year}, made by `verifier init "
                        "--demo` from demo-2020.toml:", 1)


def ensure_demo_contract(ctx: Context) -> tuple[Contract, str | None]:
    """The contract in force for the demo county today, added from the demo's terms when there is none.
    Returns it and, when it was just added, a line saying so."""
    today = ctx.clock.today()
    with ctx.db.begin() as session:
        found = contract_store.contract_for(session, DEMO_COUNTY, today)
        if found is not None:
            return found, None
        text = demo_contract_text(today, DEMO_TERMS.read_text(encoding="utf-8"))
        contract, problems = check_contract_text(text.encode("utf-8"), source=f"demo-{today.year}.toml")
        if contract is None:  # the repository's own terms: a problem here is a bug
            raise ValueError(f"demo contract: {problems}")
        contract_store.add_contract(session, contract, actor="system", role="admin", clock=ctx.clock)
    folder = ctx.settings.home / "contracts"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{contract.id}.toml").write_text(text, encoding="utf-8")
    return contract, f"已添加示范服务合同 {contract.id}（{contract.start} 至 {contract.end}），合同文件：" \
        f"{folder / (contract.id + '.toml')}"


MEETING_ATTENDEES = "\n".join(["刘建国（村支书）", "陈志强（村主任）", "杨秀英（村委委员）", "黄德明（村民代表）",
                               "周桂兰（村民代表）", "吴永福（驻村工作队）"])


def _minutes_scan(town: str, village: str, held: date) -> bytes:
    """The demo's stand-in for a scan of a meeting's signed minutes: a one-page PDF of the minutes in Chinese (its
    own bytes for each meeting)."""
    names = [line.split("（")[0] for line in MEETING_ATTENDEES.splitlines()]
    return chinese_pdf([f"{town}{village}村级评议会会议记录", f"评议日期：{held.year}年{held.month}月{held.day}日",
                        f"评议地点：{village}村委会会议室", f"应到 7 人，实到 {len(names)} 人（签到表附后）",
                        "逐户介绍核查结果，村民代表举手表决，一致同意。", "参会人员签字：" + "、".join(names)])


def chinese_pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF of `lines` in Chinese, set in the PDF reader's own Song face (STSong-Light, Adobe-GB1, a
    CJK font every reader supplies: nothing embedded), the text UCS-2 through the UniGB-UCS2-H encoding."""
    text = "".join(f"1 0 0 1 72 {770 - 28 * n} Tm <{line.encode('utf-16-be').hex().upper()}> Tj\n"
                   for n, line in enumerate(lines))
    stream = f"BT\n/F1 {16} Tf\n{text}ET\n".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [5 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) "
        b"/Ordering (GB1) /Supplement 4 >> /FontDescriptor 7 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 "
        b"/Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _wall_photo(notice_id: str, taken: date) -> bytes:
    """The demo's stand-in for a photo of a notice on the wall, its camera time on `taken` (10:00, Asia/Shanghai)."""
    exif = Image.Exif()
    exif[0x010E] = f"notice {notice_id} on the wall"  # ImageDescription: each photo its own file
    exif[0x8769] = {0x9003: f"{taken:%Y:%m:%d} 10:00:00"}
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 40)).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def load_demo(ctx: Context) -> Iterator[str]:
    """Load the demo once; a second run changes nothing and says so."""
    with ctx.db.begin() as session:
        if session.scalar(select(User.id).where(User.username == "admin")):
            yield "示范数据此前已载入，没有更改"
            yield from _login_help()
            return
        for username, display, roles in DEMO_USERS:
            unlimited = "admin" in roles or "auditor" in roles  # the demo's admin and auditor see every county
            add_user(session, username=username, password=DEMO_PASSWORD, roles=roles,
                     counties=[] if unlimited else [DEMO_COUNTY], all_counties=unlimited,
                     display_name=display, clock=ctx.clock)
    contract, added = ensure_demo_contract(ctx)
    if added:
        yield added
    with ctx.db.begin() as session:  # the county's acceptance, as any contract loaded needs it (contract_review)
        if contract_store.status_of(session, contract.id) == contract_store.PENDING:
            contract_review.accept(session, contract.id, principal=_principal(session, "reviewer"), clock=ctx.clock)
            yield f"示范县的县级复核员（reviewer）已核对并确认服务合同 {contract.id}（sha256 {contract.content_hash}）"
    with ctx.db.begin() as session:  # as `verifier places import` would, from the county's file
        listed = county_file.import_places(session, DEMO_COUNTY,
                                           ("乡镇,村\n" + "".join(f"{t},{v}\n" for t, v in PLACES)).encode("utf-8"),
                                           "demo-places.csv", clock=ctx.clock)
    yield f"示范县的乡镇村名单：{listed.added} 个村（社区）"
    with ctx.db.read() as session:
        teams = [Team(*(_principal(session, u) for u in ("clerk", "supervisor", a, b)))
                 for a, b in (("officer1", "officer2"), ("officer3", "officer4"))]
    day = max(ctx.clock.today() - timedelta(days=LEAD_DAYS), contract.start)
    made = 0
    to_review: dict[tuple[str, str], list[tuple[str, date]]] = {}
    # (stage, how many, village index): a spread over the whole flow, a few at each stage. Visits are planned as an
    # office plans them, by the planner over the county's screened cases (so the cases left screened are screened
    # last); one is chosen by hand, with its reason, so the supervisor's share of hand-picked visits is what it is.
    plan = [("received", 4, 3), ("screened", 3, 4), ("scheduled", 3, 2), ("checked", 3, 2), ("determined", 3, 2),
            ("ineligible", 2, 1), ("in_notice", 4, 0), ("paid", 5, 1), ("in_batch", 2, 4), ("ready_to_pay", 2, 3)]
    left_screened: list[tuple[Team, str, Household, date]] = []
    for stage, how_many, v in plan:
        for i in range(how_many):
            team = teams[made % 2]
            town, village = VILLAGES[v]
            hh = new_household(town, village, members=2 + made % 4, group="low_income" if made % 3 == 0 else
                               "exited_low_standard")
            referred = day + timedelta(days=made % 5)
            case_id = refer(ctx, team, hh, referred_on=referred, phone=own_phone(hh))
            visit = referred + timedelta(days=3)
            if stage == "scheduled":
                # Still to be visited: on the day the demo is loaded, so the officers record these checks at the door
                # (a visit dated further back would be a late entry needing a reason).
                visit = ctx.clock.today()
            target = {"received": None, "ineligible": "determined"}.get(
                stage, "determined" if stage in ("in_notice", "paid", "in_batch", "ready_to_pay") else stage)
            if target == "screened":
                left_screened.append((team, case_id, hh, visit))
            elif target:
                visit = advance_to(ctx, team, case_id, hh, target, on=visit, vehicle=f"车{made % 2 + 1:02d}",
                                   cost=2_500_000 + 900_000 * (made % 7),
                                   wages=4_000_000 if stage == "ineligible" else 600_000,
                                   stable_income=stage == "ineligible", planned=not (stage == "scheduled" and i == 0),
                                   # 柳树村's two households in a batch: their children's relief goes to one guardian
                                   account_number=GUARDIAN_ACCOUNT if stage == "in_batch" else None)
            if stage in ("in_notice", "paid", "in_batch", "ready_to_pay"):
                to_review.setdefault(VILLAGES[v], []).append((case_id, visit))
            made += 1
    for team, case_id, hh, on in left_screened:
        advance_to(ctx, team, case_id, hh, "screened", on=on, vehicle="")
    clerk = teams[0].clerk
    # One review meeting per village, two days after its last home check, with its attendance and signed minutes.
    for (town, village), reviewed in to_review.items():
        held = max(visit for _, visit in reviewed) + timedelta(days=2)
        scan = posting.accept(_minutes_scan(town, village, held), "application/pdf",
                              evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                              max_bytes=ctx.settings.max_upload_bytes)
        with ctx.db.begin() as session:
            meetings.record_meeting(session, meetings.MeetingRequest(
                county_code=DEMO_COUNTY, town=town, village=village, held_on=held, venue=f"{village}村委会会议室",
                attendees=MEETING_ATTENDEES, minutes="逐户介绍核查结果，村民代表举手表决，一致同意。",
                entries=[meetings.MeetingEntry(case_id, "pass") for case_id, _ in reviewed], members_expected=7,
                minutes_scan=scan), principal=clerk, clock=ctx.clock)
    with ctx.db.read() as session:
        claims, finance1, finance2 = (_principal(session, u) for u in ("claims", "finance1", "finance2"))
        reviewer = _principal(session, "reviewer")

    def notice_for(town: str, village: str, posted: date, close: bool) -> None:
        # A notice is posted on the day it is entered: the demo's history enters it on its day, closes it on its last.
        with ctx.db.begin() as session:
            notice = notices.post_notice(session, notices.NoticeRequest(county_code=DEMO_COUNTY, town=town,
                                                                        village=village, posted_on=posted),
                                         principal=clerk, clock=OnDay(ctx.clock, posted))
        if close:  # the town has one clerk: the county reviewer, in the village the next day, photographs the wall
            seen = OnDay(ctx.clock, posted + timedelta(days=1), at=time(11, 0))  # sent from the village
            photo = posting.accept(_wall_photo(notice.id, posted + timedelta(days=1)), "image/jpeg",
                                   evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                                   max_bytes=ctx.settings.max_upload_bytes)
            with ctx.db.begin() as session:
                posting.upload_wall_photo(session, notice.id, photo, principal=reviewer, clock=seen)
                posting.confirm_posting(session, notice.id, note="到村时看到公示张贴在村务公开栏",
                                        principal=reviewer, clock=OnDay(ctx.clock, seen.day))
            with ctx.db.begin() as session:
                notices.close_notice(session, notice.id, principal=clerk, clock=OnDay(ctx.clock, notice.ends_on))

    def batch() -> str:
        with ctx.db.begin() as session:
            return payments.create_batch(session, county_code=DEMO_COUNTY, contract_id=None, principal=claims,
                                         clock=ctx.clock).id

    # 西村: noticed, paid through a batch whose bank return has one failed transfer.
    notice_for(*VILLAGES[1], day + timedelta(days=14), close=True)
    paid_batch = batch()
    with ctx.db.begin() as session:
        payments.approve(session, paid_batch, principal=finance1, vault=ctx.vault, clock=ctx.clock)
    with ctx.db.begin() as session:
        payments.release(session, paid_batch, principal=finance2, vault=ctx.vault, clock=ctx.clock)
    with ctx.db.read() as session:
        refs = sorted(session.scalars(select(PaymentItem.reference).where(PaymentItem.batch_id == paid_batch)))
    lines = "reference,status,bank_reference,reason\n" + "".join(
        f"{ref},success,BK{i:05d},\n" if i else f"{ref},failed,,账户已销户\n" for i, ref in enumerate(refs))
    data = lines.encode("utf-8")
    with ctx.db.begin() as session:
        payments.import_return(session, paid_batch, bankfiles.parse_return(data),
                               file_sha256=hashlib.sha256(data).hexdigest(), filename="bank-return.csv",
                               principal=finance1, clock=ctx.clock)
    # The failed transfer's household gave a new account: the supervisor asked for the change (finance1, who imported
    # the return that says it failed, may not), which waits for a second person's approval (the other finance officer
    # or the county reviewer) on 收款人变更.
    with ctx.db.begin() as session:
        failed_case = session.scalar(select(PaymentItem.case_id).where(PaymentItem.batch_id == paid_batch,
                                                                       PaymentItem.status == "failed"))
        head = load_case(session, failed_case, None).household.head_name
        payees.request_change(session, failed_case, account_name=head, bank="农村商业银行",
                              account_number="6230" + "".join(str((n * 7) % 10) for n in range(12)),
                              reason="原账户已销户，户主新开账户", principal=_principal(session, "supervisor"),
                              vault=ctx.vault, clock=ctx.clock)
    # 柳树村: noticed and put in a batch that waits for approval. Its two households are paid into one guardian's
    # account: held out of batches until the county reviewer, having seen the guardianship papers, clears it.
    notice_for(*VILLAGES[4], day + timedelta(days=17), close=True)
    with ctx.db.begin() as session:
        for group in one_account.groups(session, reviewer, ctx.vault, ctx.clock.today()):
            one_account.clear(session, group.index, note="两户均由同一监护人代收，已核对监护证明", principal=reviewer,
                              vault=ctx.vault, clock=ctx.clock)
    batch()
    # 河口村: noticed and closed, ready to pay; 东村: noticed, not closed (its period ended weeks ago), its posting
    # not yet confirmed by a second person.
    notice_for(*VILLAGES[3], day + timedelta(days=18), close=True)
    notice_for(*VILLAGES[0], day + timedelta(days=21), close=False)
    yield from _sampling_rounds(ctx, day)
    with ctx.db.read() as session:
        by_status = dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
    yield f"示范县 {DEMO_COUNTY}：{len(DEMO_USERS)} 个用户、{made} 个案件：" + \
        "，".join(f"{label} {by_status[s]} 个" for s, label in STATUS_LABELS_ZH.items() if s in by_status)
    yield from _login_help()


def _sampling_rounds(ctx: Context, day: date) -> Iterator[str]:
    """A round over the first weeks of checks drawn through commit, freeze and reveal, and a monetary-unit round over
    all the checks so far (a period is sampled once per kind) waiting for the insurer."""
    with ctx.db.read() as session:
        reviewer, supervisor = (_principal(session, u) for u in ("reviewer", "supervisor"))
    county_secret, insurer_secret = secrets.token_bytes(32), secrets.token_bytes(32)
    may = sampling.RoundRequest(county_code=DEMO_COUNTY, checked_from=day - timedelta(days=10),
                                checked_to=day + timedelta(days=20))  # the contract's rates
    with ctx.db.begin() as session:
        drawn = sampling.open_round(session, may, principal=reviewer, clock=ctx.clock).id
    for party, who, secret in (("county", reviewer, county_secret), ("insurer", supervisor, insurer_secret)):
        with ctx.db.begin() as session:
            sampling.commit(session, drawn, party, commitment_of(secret).hex(), principal=who,
                            clock=ctx.clock)
    sampling.freeze_round(ctx.db, ctx.signer, drawn, principal=reviewer, clock=ctx.clock)
    for party, who, secret in (("insurer", supervisor, insurer_secret), ("county", reviewer, county_secret)):
        with ctx.db.begin() as session:
            sampling.reveal(session, drawn, party, secret.hex(), principal=who, clock=ctx.clock, vault=ctx.vault)
    waiting = sampling.RoundRequest(county_code=DEMO_COUNTY, checked_from=day - timedelta(days=10),
                                    checked_to=min(day + timedelta(days=50), ctx.clock.today()), kind="monetary",
                                    stratify_by_town=False)
    with ctx.db.begin() as session:
        open_id = sampling.open_round(session, waiting, principal=reviewer, clock=ctx.clock).id
    with ctx.db.begin() as session:
        sampling.commit(session, open_id, "county", commitment_of(secrets.token_bytes(32)).hex(),
                        principal=reviewer, clock=ctx.clock)
    yield f"抽样复核：轮次 {drawn} 已抽取（可用 verifier sampling replay {drawn} 重新核对）；轮次 {open_id} " \
          "等待保险公司提交承诺值"


def _login_help() -> Iterator[str]:
    yield f"可用以下任一用户登录：{', '.join(u for u, _, _ in DEMO_USERS)}，密码 {DEMO_PASSWORD}"
