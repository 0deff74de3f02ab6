"""Fuzz every operation of the OpenAPI schema with generated requests: bad input never gets a 500, and every
refusal is a problem in Chinese: the status's title (`labels.ERROR_TITLES`) and a detail with Chinese in it."""

from __future__ import annotations

import os
import re

import schemathesis
from codec_tables import write_codec_tables
from hypothesis import HealthCheck, given, settings
from schemathesis.python import asgi

from verifier.accounts.service import ROLES
from verifier.web.labels import ERROR_TITLES

# What the two passes' answers can differ in is the database's strictness (PostgreSQL's: lengths, ranges, NUL bytes),
# so the PostgreSQL pass draws the most; the validation and the wording in front of it are the same on either.
EXAMPLES_PER_OPERATION = 12 if os.environ.get("VERIFIER_TEST_DATABASE_URL") else 6
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_no_operation_answers_generated_input_with_a_server_error(client, users) -> None:  # type: ignore[no-untyped-def]
    write_codec_tables()  # the strings' character tables, known in closed form (codec_tables.py)
    users.add("everyone", *ROLES)  # passes every guard, so the requests reach validation and the services
    headers = users.headers("everyone")
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", client.app)
    failures: list[str] = []
    operations = 0
    calls: list[int] = []
    english: set[str] = set()
    # One in-process client for every call (the transport would make a new one per call), reading no proxy or netrc
    # settings from the environment (each call looked them up), and holding no cookie from one call to the next.
    session = asgi.get_client(client.app)
    session.trust_env = False
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case) -> None:  # type: ignore[no-untyped-def]
            session.cookies.clear()
            response = case.call(headers=headers, session=session)
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.body!r:.200}: {response.status_code}"
                                f" {response.text[:300]}")
            elif response.status_code >= 400 and "problem+json" in str(response.headers.get("content-type")):
                said = response.json()
                if said.get("title") != ERROR_TITLES.get(response.status_code) or not HAN.search(said.get("detail", "")):
                    english.add(f"{case.method} {case.formatted_path}: {response.status_code} {said}"[:300])

        fuzz()
    session.close()
    assert operations >= 15
    assert len(calls) >= operations * 3  # every operation was really exercised
    assert failures == []
    assert sorted(english) == []
