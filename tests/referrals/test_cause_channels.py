"""A cause is referred only through the channels its contract allows: a bureau's file carrying another bureau's
cause is refused naming the row and the field, and so is a household's application for a cause only a bureau may
refer; the scheme's three causes keep their bureaus, civil affairs (illness, disaster) and applications."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from factories import accept_contract, new_id_number, staff
from sqlalchemy import func, select

from verifier import demo
from verifier.contract import check_contract_text
from verifier.domain.causes import DEFAULT_TABLE
from verifier.domain.errors import ValidationFailed
from verifier.referrals import service as referrals
from verifier.store import contracts as contract_store
from verifier.store.tables import Case, ReferralImport
from verifier.web import labels

TEXT = (Path(__file__).resolve().parents[1] / "contracts" / "disability-2020.toml").read_text("utf-8")
HEADER = "身份证号,姓名,乡镇,村,户类型,原因,金额,日期\n"
ON = date(2020, 5, 1)


def _csv(*rows: tuple[str, ...]) -> io.BytesIO:
    return io.BytesIO((HEADER + "".join(",".join(r) + "\n" for r in rows)).encode("utf-8"))


def _row(cause: str) -> tuple[str, ...]:
    return (new_id_number(), "张三", "城关镇", "东村", "非贫低收入户", cause, "30000", ON.isoformat())


def _load(ctx, channel: str, source: io.BytesIO, county: str = "340223"):  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        return referrals.import_file(session, vault=ctx.vault, source=source, filename="f.csv", channel=channel,
                                     county_code=county, principal=staff(ctx, county).supervisor,
                                     role="insurer_supervisor", clock=ctx.clock)


def _imports(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(ReferralImport)) or 0


def test_the_scheme_causes_name_their_channels() -> None:
    assert {c.code: c.referred_by for c in DEFAULT_TABLE.causes} == {
        "illness": ("medical_insurance", "civil_affairs", "application"),
        "disaster": ("emergency_management", "civil_affairs", "application"),
        "schooling": ("education", "application"),
    }


def test_a_bureau_file_with_another_bureaus_cause_is_refused_naming_the_row(ctx) -> None:  # type: ignore[no-untyped-def]
    staff(ctx)
    with pytest.raises(ValidationFailed) as exc:
        _load(ctx, "education", _csv(_row("因学"), _row("因病"), _row("因学")))
    (error,) = exc.value.errors
    assert (error.row, error.field) == (3, "cause")
    assert error.message == "服务合同 demo-2020 不受理来自教育局的因病转介，可由：医保局、民政局、农户申请"
    assert labels.message_zh(error.message) == error.message  # said where it is refused
    assert _imports(ctx) == 0
    # Each cause through a channel that refers it: imported.
    assert _load(ctx, "education", _csv(_row("因学"))).new_cases == 1
    assert _load(ctx, "civil_affairs", _csv(_row("因病"), _row("因灾"))).new_cases == 2
    assert _load(ctx, "emergency_management", _csv(_row("因灾"))).new_cases == 1


def test_the_api_refuses_it_too(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=("340223",))
    r = client.post("/api/referrals/imports", headers=users.headers("sup"),
                    data={"channel": "medical_insurance", "county_code": "340223"},
                    files={"file": ("f.csv", _csv(_row("因学")).getvalue(), "text/csv")})
    assert r.status_code == 422, r.text
    assert any(e.get("row") == 2 and e.get("field") == "cause" and "不受理来自医保局的因学转介" in e.get("message", "")
               for e in r.json()["errors"]), r.json()


def test_a_cause_only_a_bureau_refers_is_refused_on_an_application(ctx) -> None:  # type: ignore[no-untyped-def]
    text = TEXT.replace('channel = "civil_affairs"', 'channels = ["civil_affairs"]')
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        contract_store.add_contract(session, contract, actor="admin", role="admin", clock=ctx.clock)
        accept_contract(session, contract.id, ctx.clock)  # as the county would
    s = staff(ctx, "340224")
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    hh = demo.new_household("城关镇", "北村", group="low_income")
    with pytest.raises(ValidationFailed) as exc:
        demo.refer(ctx, team, hh, cause="disability", referred_on=ON, county="340224")
    (error,) = exc.value.errors
    assert error.field == "cause" and error.message.endswith("不受理来自农户申请的因残转介，可由：民政局")
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
    # The bureau's file is taken, and an application for illness (which households may apply for) too.
    row = (hh.id_numbers[0], hh.head, "城关镇", "北村", "低收入户", "因残", "26000", ON.isoformat())
    assert _load(ctx, "civil_affairs", _csv(row), county="340224").new_cases == 1
    other = demo.new_household("城关镇", "北村")
    assert demo.refer(ctx, team, other, cause="illness", referred_on=ON, county="340224")


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda t: t.replace('channel = "civil_affairs"', 'channels = ["civil_affairs", "red_cross"]'),
     "causes[3].channels", "unknown channel 'red_cross'"),
    (lambda t: t.replace('channel = "civil_affairs"', 'channels = ["civil_affairs", "civil_affairs"]'),
     "causes[3].channels", "listed twice"),
    (lambda t: t.replace('channel = "civil_affairs"', 'channel = "education"\nchannels = ["civil_affairs"]'),
     "causes[3].channel", "not among its channels"),
])
def test_a_bad_channel_list_is_refused(change, field: str, words: str) -> None:  # type: ignore[no-untyped-def]
    contract, problems = check_contract_text(change(TEXT).encode("utf-8"))
    assert contract is None
    assert any(p.field == field and words in p.message for p in problems), problems
