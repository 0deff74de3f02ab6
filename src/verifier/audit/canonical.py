"""The canonical JSON of audit entries: the exact bytes that are hashed, stored and served.

An entry is one JSON object with exactly these members:

    index          integer, the entry's position in the log (0, 1, 2, ...)
    time           string, UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fraction digits, always `Z`)
    actor          string, who did it (a user id, or "system")
    role           string, the role they acted in
    action         string, what happened, e.g. "case.screen"
    subject        string, the id of the thing it happened to
    contract_hash  string, or null when no service contract applies
    payload        object, the details

Encoding (a subset of RFC 8785, the JSON Canonicalization Scheme, and byte-identical to it for these values):

- UTF-8, no byte order mark, no whitespace at all outside strings; `,` and `:` as separators.
- Object members sorted by key, comparing keys as UTF-16 code units (for ASCII keys: plain byte order);
  keys are strings and appear once.
- Only these values: string, integer, true, false, null, array, object. No floats, no NaN or infinities:
  money goes in as a string of yuan with two decimals (`"5200.00"`), rates and other decimals as strings.
  Integers must lie within ±(2**53 − 1) so every JSON reader holds them exactly.
- Integers in plain decimal, `-` for negatives, no leading zeros, no `+`, no exponent.
- Strings: `"` and `\\` escaped with a backslash; U+0008, U+0009, U+000A, U+000C, U+000D as `\\b \\t \\n \\f \\r`;
  the other characters below U+0020 as `\\u00xx` (lower-case hex); every other character as its raw
  UTF-8 bytes (no `\\u` escapes, no Unicode normalisation). Lone surrogates are refused.

The log stores these bytes as they were hashed and verification hashes the stored bytes; nothing is ever
re-encoded to check a hash. `decode_entry` additionally checks that bytes *are* in this canonical form.

Because members are sorted and the three members before `index` (action, actor, contract_hash) hold only
strings or null, the first `,"index":` in an entry is always the top-level one; `entry_index` relies on
this to read an entry's index without parsing the whole object.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

MAX_SAFE_INTEGER = 2**53 - 1
ENTRY_FIELDS = ("action", "actor", "contract_hash", "index", "payload", "role", "subject", "time")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False)


class CanonicalError(ValueError):
    """A value that has no canonical form, or bytes that are not a canonical entry."""


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _normalise(value: Any, path: str) -> Any:
    """Check every value is allowed, and rebuild objects with their members in canonical order."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer {value} is outside ±(2**53 - 1); give it as a string")
        return int(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise CanonicalError(f"{path}: string holds a lone surrogate, which is not valid Unicode") from None
        return value
    if isinstance(value, float):
        raise CanonicalError(
            f"{path}: floating-point numbers are not allowed; give money as a string such as \"5200.00\""
        )
    if isinstance(value, list):
        return [_normalise(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object keys must be strings, got {type(key).__name__} {key!r}")
        out = {}
        for key in sorted(value, key=_utf16_key):
            out[_normalise(key, f"{path} key")] = _normalise(value[key], f"{path}.{key}")
        return out
    raise CanonicalError(
        f"{path}: {type(value).__name__} is not allowed; use str, int, bool, None, list or dict"
        " (money and decimals as strings, dates as ISO 8601 strings)"
    )


class _Unusual(Exception):
    """A value `_plain` leaves to `_normalise` (to be refused with its path, or converted)."""


def _plain(value: Any) -> None:
    """Nothing when a value is of exactly the plain types, with ASCII keys and integers in range (what entries hold);
    raises `_Unusual` otherwise. Such a value is encoded by msgspec with its objects' members sorted (for ASCII keys
    UTF-16 order, code point order and byte order agree), whose strings are those of `_ENCODER` byte for byte (raw
    UTF-8, `\\b \\t \\n \\f \\r`, other controls as lower-case `\\u00xx`); a lone surrogate fails its UTF-8
    encoding."""
    t = type(value)
    if t is str or t is bool or value is None:
        return
    if t is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise _Unusual
        return
    if t is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise _Unusual
            _plain(item)
        return
    if t is list:
        for item in value:
            _plain(item)
        return
    raise _Unusual


_sorted_json = msgspec.json.Encoder(order="sorted").encode


def encode(value: Any, path: str = "value") -> bytes:
    """The canonical bytes of any allowed value."""
    try:
        _plain(value)
        return _sorted_json(value)
    except (_Unusual, TypeError, UnicodeEncodeError):
        pass  # refused with the path of what is refused, or converted (an int or str subclass), below
    return _ENCODER.encode(_normalise(value, path)).encode("utf-8")


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CanonicalError("time: needs a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    if not _TIME.match(text):
        raise CanonicalError(f"time: {text!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    index: int
    time: str
    actor: str
    role: str
    action: str
    subject: str
    contract_hash: str | None
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ENTRY_FIELDS}


def encode_entry(
    *,
    index: int,
    time: datetime | str,
    actor: str,
    role: str,
    action: str,
    subject: str,
    contract_hash: str | None,
    payload: dict[str, Any],
) -> bytes:
    """The canonical bytes of one entry; raises CanonicalError naming the offending field."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise CanonicalError(f"index: must be a non-negative integer, got {index!r}")
    time_text = format_time(time) if isinstance(time, datetime) else time
    if not isinstance(time_text, str) or not _TIME.match(time_text):
        raise CanonicalError(f"time: {time!r} is not a datetime or YYYY-MM-DDTHH:MM:SS.ffffffZ")
    for name, text in (("actor", actor), ("role", role), ("action", action), ("subject", subject)):
        if not isinstance(text, str) or not text:
            raise CanonicalError(f"{name}: must be a non-empty string, got {text!r}")
    if contract_hash is not None and not isinstance(contract_hash, str):
        raise CanonicalError(f"contract_hash: must be a string or None, got {contract_hash!r}")
    if not isinstance(payload, dict):
        raise CanonicalError(f"payload: must be a dict, got {type(payload).__name__}")
    return encode(
        {
            "index": index,
            "time": time_text,
            "actor": actor,
            "role": role,
            "action": action,
            "subject": subject,
            "contract_hash": contract_hash,
            "payload": payload,
        },
        path="entry",
    )


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CanonicalError(f"member {key!r} appears twice")
        out[key] = value
    return out


def _reject_number(text: str) -> Any:
    raise CanonicalError(f"non-integer number {text!r}")


def decode_entry(data: bytes) -> Entry:
    """Parse entry bytes, insisting they are exactly the canonical encoding of a well-formed entry."""
    try:
        obj = json.loads(
            bytes(data).decode("utf-8"),
            object_pairs_hook=_reject_duplicates,
            parse_float=_reject_number,
            parse_constant=_reject_number,
        )
    except CanonicalError:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise CanonicalError(f"not UTF-8 JSON: {exc}") from None
    if not isinstance(obj, dict) or sorted(obj) != sorted(ENTRY_FIELDS):
        found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise CanonicalError(f"an entry is an object with members {', '.join(ENTRY_FIELDS)}; found {found}")
    try:
        again = encode_entry(**obj)
    except TypeError as exc:  # pragma: no cover - members were checked above
        raise CanonicalError(str(exc)) from None
    if again != bytes(data):
        raise CanonicalError("entry bytes are valid JSON but not in canonical form")
    return Entry(**obj)


def entry_index(data: bytes) -> int:
    """The `index` member of canonical entry bytes, read without parsing the rest (see module notes)."""
    view = bytes(data)
    if not view.startswith(b'{"action":'):
        raise CanonicalError("entry does not begin with its action member")
    at = view.find(b',"index":')
    if at < 0:
        raise CanonicalError("entry has no index member")
    start = at + 9
    end = view.find(b',"payload":', start)
    digits = view[start:end] if end > 0 else b""
    if not digits.isdigit() or (len(digits) > 1 and digits[0:1] == b"0"):
        raise CanonicalError("entry's index member is not a plain non-negative integer")
    return int(digits)
