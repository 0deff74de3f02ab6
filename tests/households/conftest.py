"""The household tests reuse the payment tests' helpers (a case ready to pay, another county's contract)."""

from __future__ import annotations

import sys
from pathlib import Path

PAYMENTS = str(Path(__file__).resolve().parents[1] / "payments")
if PAYMENTS not in sys.path:
    sys.path.insert(0, PAYMENTS)
