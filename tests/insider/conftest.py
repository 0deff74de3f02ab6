"""The insider tests: each tries, over the HTTP API, what one person could do alone (helpers in insider_kit.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
