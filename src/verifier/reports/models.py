"""Tables of the reports stage."""

from __future__ import annotations
