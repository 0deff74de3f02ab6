from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.audit.canonical import (
    CanonicalError,
    decode_entry,
    encode,
    encode_entry,
    entry_index,
    format_time,
)

SHANGHAI = timezone(timedelta(hours=8))


def entry(**overrides) -> bytes:
    fields = {"index": 7, "time": datetime(2020, 6, 3, 16, 30, tzinfo=SHANGHAI), "actor": "u_1", "role": "town_clerk",
              "action": "case.screen", "subject": "case_1", "contract_hash": None, "payload": {"decision": "pass"}}
    fields.update(overrides)
    return encode_entry(**fields)


def test_exact_bytes_of_an_entry() -> None:
    data = entry(payload={"z": [1, True, None], "amount": "5200.00", "名": "张三\n\"x\"\\"})
    assert data == (
        '{"action":"case.screen","actor":"u_1","contract_hash":null,"index":7,'
        '"payload":{"amount":"5200.00","z":[1,true,null],"名":"张三\\n\\"x\\"\\\\"},'
        '"role":"town_clerk","subject":"case_1","time":"2020-06-03T08:30:00.000000Z"}'
    ).encode()
    assert decode_entry(data).payload["名"] == "张三\n\"x\"\\"
    assert entry_index(data) == 7


def test_strings_escape_only_quote_backslash_and_controls() -> None:
    assert encode("\x00\x1f\x7f\u2028é😀\b\t\n\f\r") == '"\\u0000\\u001f\x7f\u2028é😀\\b\\t\\n\\f\\r"'.encode("utf-8")


def test_keys_sort_by_utf16_code_units_as_in_rfc_8785() -> None:
    # U+FB01 sorts before U+1F600 in UTF-16 (0xD83D...) but after it by code point.
    assert encode({"\U0001f600": 1, "\ufb01": 2, "a": 3}) == '{"a":3,"😀":1,"ﬁ":2}'.encode()


@pytest.mark.parametrize("bad, message", [
    (1.5, "floating-point"),
    (Decimal("5200.00"), "Decimal is not allowed"),
    (2**53, "outside"),
    ({1: "x"}, "keys must be strings"),
    ("\ud800", "surrogate"),
    ((1, 2), "tuple is not allowed"),
    (datetime(2020, 1, 1, tzinfo=UTC), "datetime is not allowed"),
])
def test_values_without_a_canonical_form_are_refused(bad: object, message: str) -> None:
    with pytest.raises(CanonicalError, match=message):
        entry(payload={"items": [{"amount": bad}]})


def test_errors_name_the_field() -> None:
    with pytest.raises(CanonicalError, match=r"entry\.payload\.items\[0\]\.amount"):
        entry(payload={"items": [{"amount": 1.0}]})
    with pytest.raises(CanonicalError, match="time: needs a time zone"):
        entry(time=datetime(2020, 1, 1))
    with pytest.raises(CanonicalError, match="actor"):
        entry(actor="")


def test_time_is_utc_with_microseconds_and_z() -> None:
    assert format_time(datetime(2020, 1, 1, 8, 0, 0, 5, tzinfo=SHANGHAI)) == "2020-01-01T00:00:00.000005Z"


@pytest.mark.parametrize("text", [
    b'{"action":"a","actor":"b","contract_hash":null,"index":1,"payload":{},"role":"r","subject":"s","time":"2020-06-03T08:30:00.000000Z"} ',
    b'{"actor":"b","action":"a","contract_hash":null,"index":1,"payload":{},"role":"r","subject":"s","time":"2020-06-03T08:30:00.000000Z"}',
    b'{"action":"a","actor":"b","contract_hash":null,"index":1.0,"payload":{},"role":"r","subject":"s","time":"2020-06-03T08:30:00.000000Z"}',
    b'{"action":"a","action":"a","actor":"b","contract_hash":null,"index":1,"payload":{},"role":"r","subject":"s","time":"2020-06-03T08:30:00.000000Z"}',
    b'{"action":"a","actor":"b","contract_hash":null,"index":1,"payload":{},"role":"r","subject":"s","time":"2020-06-03T08:30:00Z"}',
    b'{"action":"a","actor":"b","contract_hash":null,"index":1,"payload":{},"role":"r","subject":"s"}',
    b'\xff',
])
def test_decode_accepts_only_canonical_entries(text: bytes) -> None:
    with pytest.raises(CanonicalError):
        decode_entry(text)


def test_fast_index_reader_is_not_fooled_by_lookalike_strings() -> None:
    data = entry(index=12, actor=',"index":99,"payload":', payload={"index": 5})
    assert entry_index(data) == 12
    with pytest.raises(CanonicalError):
        entry_index(b'{"action":"a","index":01,"payload":{}}')


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(st.characters(max_codepoint=0xD7FF), max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_any_allowed_value_round_trips_and_is_stable(value: object) -> None:
    data = encode(value)
    assert json.loads(data) == value
    assert encode(json.loads(data)) == data
    # Below U+D800 UTF-16 and code point order agree, so the standard library's sorted compact form must match.
    assert data == json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5), st.integers(0, 2**40))
def test_entries_round_trip(payload: dict, index: int) -> None:
    data = entry(index=index, payload=payload)
    decoded = decode_entry(data)
    assert decoded.index == index == entry_index(data)
    assert decoded.payload == payload


any_keys_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**54), 2**54) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(any_keys_values)
def test_the_quick_path_gives_the_bytes_and_refusals_of_the_checked_one(value: object) -> None:
    # `encode` first orders plain values without building paths; whatever it leaves (non-ASCII keys, integers out of
    # range, lone surrogates) goes through the path-naming `_normalise`, and the bytes are the same either way.
    from verifier.audit.canonical import _ENCODER, _normalise

    try:
        expected = _ENCODER.encode(_normalise(value, "value")).encode("utf-8")
    except CanonicalError as exc:
        with pytest.raises(CanonicalError) as refused:
            encode(value)
        assert str(refused.value) == str(exc)
    else:
        assert encode(value) == expected


def _encode_before(value: object) -> bytes:
    """The quick path as it was before msgspec encoded it: objects rebuilt in sorted order, then the standard
    library's compact encoder (the bytes every stored entry was hashed as)."""
    from verifier.audit.canonical import _ENCODER, _normalise

    return _ENCODER.encode(_normalise(value, "value")).encode("utf-8")


ascii_keys = st.text(st.characters(max_codepoint=0x7F), max_size=6)
every_string = st.text(st.characters(blacklist_categories=()), max_size=12)  # lone surrogates and controls too
unusual_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | every_string | st.floats(allow_nan=True)
    | st.decimals(allow_nan=False, places=2) | st.tuples(st.integers(0, 3)),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(ascii_keys | every_string | st.integers(0, 3), children, max_size=4),
    max_leaves=20,
)


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | every_string,
                    lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(ascii_keys, children, max_size=6), max_leaves=30))
def test_msgspecs_bytes_are_the_standard_librarys_for_plain_values_with_ascii_keys(value: object) -> None:
    # every ASCII key (controls and DEL included) sorts as in `_normalise`, every string escapes as `_ENCODER`'s
    try:
        expected = _encode_before(value)
    except CanonicalError as exc:  # a lone surrogate: refused with its path as before
        with pytest.raises(CanonicalError) as refused:
            encode(value)
        assert str(refused.value) == str(exc)
    else:
        assert encode(value) == expected


@given(unusual_values)
def test_values_the_quick_path_leaves_are_encoded_or_refused_as_before(value: object) -> None:
    try:
        expected = _encode_before(value)
    except CanonicalError as exc:
        with pytest.raises(CanonicalError) as refused:
            encode(value)
        assert str(refused.value) == str(exc)
    else:
        assert encode(value) == expected


def test_subclasses_of_plain_types_are_encoded_as_their_values() -> None:
    class Text(str):
        pass

    class Number(int):
        pass

    class Mapping(dict):  # type: ignore[type-arg]
        pass

    value = {"b": Text("x"), "a": Number(3), "c": Mapping(z=1, y=[True, None])}
    assert encode(value) == b'{"a":3,"b":"x","c":{"y":[true,null],"z":1}}' == _encode_before(value)


def test_every_code_point_but_the_surrogates_is_written_as_before() -> None:
    # every character, alone and in a key's value, as msgspec writes it and as the standard library wrote it
    points = [*range(0xD800), *range(0xE000, 0x110000)]
    for start in range(0, len(points), 4096):
        text = "".join(map(chr, points[start:start + 4096]))
        assert encode({"k": text}) == _encode_before({"k": text})
    for cp in range(0x80):
        assert encode(chr(cp)) == _encode_before(chr(cp))
