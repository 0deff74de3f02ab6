"""Hypothesis's table of the characters a codec encodes, written before the tests for the two codecs the API fuzz
asks for, before the fuzz draws anything (schemathesis draws strings with `codec="utf-8"` and header values with `codec="ascii"`).

Without the table Hypothesis makes it by encoding each of the 1,114,112 code points in turn, about 5-9 s for each
codec in each test process (a fresh checkout has no `.hypothesis` directory). Both are known in closed form: UTF-8
encodes every code point but the surrogates (U+D800-U+DFFF), ASCII the first 128, and each decodes back to the same
character. The file is written where and how Hypothesis keeps its own (`charmap.charmap_file`); if its format ever
changes Hypothesis fails to read it, makes the table itself and writes it over ours, as it does without a file."""

from __future__ import annotations

import gzip
import json
import os
import tempfile

KNOWN = {"utf-8": [[0, 0xD7FF], [0xE000, 0x10FFFF]], "ascii": [[0, 0x7F]]}


def write_codec_tables() -> None:
    try:
        from hypothesis.internal import charmap
    except ImportError:  # pragma: no cover - hypothesis is a test dependency
        return
    for codec, encodable in KNOWN.items():
        path = charmap.charmap_file(f"codec-v2-{codec}")
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        os.close(fd)
        with gzip.GzipFile(tmp, "wb", mtime=1) as f:
            f.write(json.dumps([encodable, []]).encode())
        os.replace(tmp, path)
