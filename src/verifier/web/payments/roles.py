"""Who reads and acts on the payment pages (the routes' `opt`)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.params import Parameter

from ...payments import payees

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
READER_ROLES = ("insurer_claims", "finance", "county_reviewer", "insurer_supervisor", "auditor", "admin")
READERS: dict[str, Any] = {"roles": READER_ROLES}
CLAIMS: dict[str, Any] = {"roles": ("insurer_claims",)}
FINANCE: dict[str, Any] = {"roles": ("finance",)}
REVIEWER: dict[str, Any] = {"roles": ("county_reviewer",)}
CANCELLERS: dict[str, Any] = {"roles": ("insurer_claims", "finance")}
PAYEE_EDITORS: dict[str, Any] = {"roles": payees.REQUESTERS}
