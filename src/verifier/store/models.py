"""Every table, imported in one place so metadata is complete (for create_all and Alembic)."""

from __future__ import annotations

from . import tables as _tables  # noqa: E402,F401
from verifier.audit import models as _audit_models  # noqa: F401
