"""Shared by scripts/run and scripts/test: make sure .venv exists and holds the current dependencies."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_venv() -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"verifier needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    python = BIN / ("python.exe" if os.name == "nt" else "python")
    if not python.exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        print("installing verifier and its dependencies into .venv …", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        # --no-compile: scripts/test and scripts/run keep bytecode under .venv/pycache (PYTHONPYCACHEPREFIX), where
        # Python looks for it instead of the packages' own __pycache__ folders, so compiling every installed module
        # here (about 12 s of a fresh checkout's start, before anything else runs) would write files nothing reads.
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-compile", "-e", f"{ROOT}[test]"], check=True)
        stamp.write_text(wanted)
    return python
