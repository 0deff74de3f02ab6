"""Sampling test helpers: populations of checked cases, round helpers, and the `rounds` fixture."""

from __future__ import annotations

from datetime import date
from typing import Any

import hashlib

import pytest
from factories import COUNTY, loose_sampling_contract, make_case, one_checkpoint
from recheck_kit import visit_api, visit_if_possible

PERIOD = {"checked_from": "2020-05-01", "checked_to": "2020-06-30"}
RANDOMNESS = "3141592653589793238462643383279502884197169399375105820974944592"  # the county's secret
INSURER_SECRET = "2718281828459045235360287471352662497757247093699959574966967627"


def commitment(secret_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(secret_hex)).hexdigest()


def make_population(ctx: Any, towns: dict[str, int], *, stage: str = "checked", **kwargs: Any) -> list[str]:
    """Cases at `stage` (checked on the clock's day), `towns[name]` of them in each town; returns their ids. Their
    commits are signed by one checkpoint (factories.one_checkpoint)."""
    ids = []
    with one_checkpoint(ctx):
        for town, count in towns.items():
            for i in range(count):
                ids.append(make_case(ctx, stage=stage, town=town, village=f"{town}{i % 3}村", **kwargs))
    return ids


class Rounds:
    """Calls the sampling API as the county reviewer (`headers`) and the insurer supervisor (`insurer`)."""

    def __init__(self, client: Any, headers: dict[str, str], insurer: dict[str, str], county: str = COUNTY) -> None:
        self.client, self.headers, self.insurer, self.county = client, headers, insurer, county

    def headers_of(self, party: str) -> dict[str, str]:
        return self.headers if party == "county" else self.insurer

    def open(self, status: int = 201, **body: Any) -> dict[str, Any]:
        r = self.client.post("/api/sampling-rounds", json={"county_code": self.county, **PERIOD, **body},
                             headers=self.headers)
        assert r.status_code == status, r.text
        return r.json()

    def commit(self, round_id: str, party: str, secret: str, status: int = 201,
               headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = self.client.post(f"/api/sampling-rounds/{round_id}/commitments",
                             json={"party": party, "commitment": commitment(secret)},
                             headers=headers or self.headers_of(party))
        assert r.status_code == status, r.text
        return r.json()

    def freeze(self, round_id: str, status: int = 200) -> dict[str, Any]:
        r = self.client.post(f"/api/sampling-rounds/{round_id}/freeze", headers=self.headers)
        assert r.status_code == status, r.text
        return r.json()

    def reveal(self, round_id: str, party: str, secret: str, status: int = 200,
               headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = self.client.post(f"/api/sampling-rounds/{round_id}/reveals", json={"party": party, "secret": secret},
                             headers=headers or self.headers_of(party))
        assert r.status_code == status, r.text
        return r.json()

    def pass_over(self, round_id: str, party: str, status: int = 200,
                  headers: dict[str, str] | None = None) -> dict[str, Any]:
        other = "insurer" if party == "county" else "county"
        r = self.client.post(f"/api/sampling-rounds/{round_id}/pass-over", json={"party": party},
                             headers=headers or self.headers_of(other))
        assert r.status_code == status, r.text
        return r.json()

    def public_value(self, round_id: str, value: str, status: int = 200,
                     headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = self.client.post(f"/api/sampling-rounds/{round_id}/public-value", json={"value": value},
                             headers=headers or self.headers)
        assert r.status_code == status, r.text
        return r.json()

    def create(self, status: int = 201, county: str = RANDOMNESS, insurer: str = INSURER_SECRET,
               **body: Any) -> dict[str, Any]:
        """Open a round, commit both parties and freeze it: the freeze's answer (or the refusal of the opening)."""
        opened = self.open(status, **body)
        if status != 201:
            return opened
        self.commit(opened["id"], "county", county)
        self.commit(opened["id"], "insurer", insurer)
        return self.freeze(opened["id"])

    def draw(self, round_id: str, county: str = RANDOMNESS, insurer: str = INSURER_SECRET) -> dict[str, Any]:
        """Both parties reveal; the second reveal draws the sample and answers with it."""
        self.reveal(round_id, "county", county)
        return self.reveal(round_id, "insurer", insurer)

    def result(self, round_id: str, case_id: str, status: int = 201, visit: bool = True,
               **body: Any) -> dict[str, Any]:
        """Record the re-check, with its visit (a photo of the day and the signed record) unless `visit` is False."""
        shown = visit_if_possible(self.client, self.headers, round_id, case_id) if visit else {}
        r = self.client.post(f"/api/sampling-rounds/{round_id}/results", json={"case_id": case_id, **shown, **body},
                             headers=self.headers)
        assert r.status_code == status, r.text
        return r.json()

    def get(self, round_id: str, what: str = "") -> dict[str, Any]:
        r = self.client.get(f"/api/sampling-rounds/{round_id}{what}", headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()

    def report(self, round_id: str) -> dict[str, Any]:
        return self.get(round_id, "/report")

    def expand(self, round_id: str, status: int = 200) -> dict[str, Any]:
        r = self.client.post(f"/api/sampling-rounds/{round_id}/expand", headers=self.headers)
        assert r.status_code == status, r.text
        return r.json()


@pytest.fixture
def rounds(client, users) -> Rounds:  # type: ignore[no-untyped-def]
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    return Rounds(client, users.headers("reviewer"), users.headers("insurer"))


LOOSE_COUNTY = "340224"


def loose_rounds(ctx: Any, client: Any, users: Any, **rates: str) -> Rounds:
    """`Rounds` in a county of its own whose contract samples with these looser rates (factories.
    loose_sampling_contract): a sample smaller than the few cases a test makes."""
    loose_sampling_contract(ctx, LOOSE_COUNTY, **rates)
    users.add("loose-reviewer", "county_reviewer", counties=(LOOSE_COUNTY,))
    users.add("loose-insurer", "insurer_supervisor", counties=(LOOSE_COUNTY,))
    return Rounds(client, users.headers("loose-reviewer"), users.headers("loose-insurer"), LOOSE_COUNTY)


def today(ctx: Any) -> date:
    return ctx.clock.today()
