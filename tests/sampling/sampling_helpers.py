"""Sampling test helpers: populations of checked cases, round helpers, and the `rounds` fixture."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from factories import COUNTY, make_case

PERIOD = {"checked_from": "2020-05-01", "checked_to": "2020-06-30"}
RANDOMNESS = "3141592653589793238462643383279502884197169399375105820974944592"


def make_population(ctx: Any, towns: dict[str, int], *, stage: str = "checked", **kwargs: Any) -> list[str]:
    """Cases at `stage` (checked on the clock's day), `towns[name]` of them in each town; returns their ids."""
    ids = []
    for town, count in towns.items():
        for i in range(count):
            ids.append(make_case(ctx, stage=stage, town=town, village=f"{town}{i % 3}村", **kwargs))
    return ids


class Rounds:
    """Calls the sampling API as one user."""

    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    def create(self, status: int = 201, **body: Any) -> dict[str, Any]:
        r = self.client.post("/api/sampling-rounds", json={"county_code": COUNTY, **PERIOD, **body},
                             headers=self.headers)
        assert r.status_code == status, r.text
        return r.json()

    def draw(self, round_id: str, randomness: str = RANDOMNESS, status: int = 200) -> dict[str, Any]:
        r = self.client.post(f"/api/sampling-rounds/{round_id}/draw", json={"randomness": randomness},
                             headers=self.headers)
        assert r.status_code == status, r.text
        return r.json()

    def result(self, round_id: str, case_id: str, status: int = 201, **body: Any) -> dict[str, Any]:
        r = self.client.post(f"/api/sampling-rounds/{round_id}/results", json={"case_id": case_id, **body},
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
    return Rounds(client, users.headers("reviewer"))


def today(ctx: Any) -> date:
    return ctx.clock.today()
