"""Fixtures for sampling rounds (helpers live in sampling_helpers.py, importable by name)."""

from __future__ import annotations

from sampling_helpers import rounds  # noqa: F401  (the fixture)
