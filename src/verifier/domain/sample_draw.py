"""The seeded draw of a spot-check sample (see `domain.sampling`): the population's digest, the parties'
commitments and secrets, the round's seed, uniform draws, stratified and monetary-unit selection."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta

from .errors import ValidationFailed
from .money import Fen

from .sample_stats import _count

SEED_BYTES = 32
_WORD_BITS = 256
_COUNTER_LIMIT = 1 << 64


def _check_ids(case_ids: Sequence[str], field: str) -> list[str]:
    for case_id in case_ids:
        if not isinstance(case_id, str) or not case_id or "\n" in case_id:
            raise ValidationFailed.one(field, f"案件编号不能为空、不能含换行（现为 {case_id!r}）")
    ids = sorted(case_ids)
    for before, after in zip(ids, ids[1:]):
        if before == after:
            raise ValidationFailed.one(field, f"案件编号重复：{before}")
    return ids


def _check_seed(seed: bytes) -> bytes:
    if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
        raise ValidationFailed.one("seed", f"应为 {SEED_BYTES} 字节")
    return seed


def population_digest(case_ids: Sequence[str]) -> bytes:
    """SHA-256 of the frozen population.

    Bytes hashed: the case ids sorted by code point (Python `sorted`), joined by a single "\\n" (0x0A), encoded
    as UTF-8, with no trailing newline. Ids must be distinct, non-empty and free of line breaks, which makes
    the encoding unambiguous. An empty population hashes the empty string.
    """
    return hashlib.sha256("\n".join(_check_ids(case_ids, "case_ids")).encode("utf-8")).digest()


PARTIES = ("county", "insurer")
"""The two parties of a round, in the order their secrets enter the seed."""

MIN_SECRET_BYTES = 16
MAX_SECRET_BYTES = 512
MAX_PUBLIC_VALUE_CHARS = 500
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _hex_bytes(text: object, field: str, *, low: int, high: int) -> bytes:
    if not isinstance(text, str):
        raise ValidationFailed.one(field, "只能包含十六进制数字")
    value = text.strip()
    if not value or not set(value) <= _HEX_DIGITS:
        raise ValidationFailed.one(field, "只能包含十六进制数字 0–9 和 a–f")
    if len(value) % 2:
        raise ValidationFailed.one(field, f"位数须为偶数（现为 {len(value)} 位）")
    if len(value) < 2 * low:
        raise ValidationFailed.one(field, f"至少 {2 * low} 位（现为 {len(value)} 位）")
    if len(value) > 2 * high:
        raise ValidationFailed.one(field, f"最多 {2 * high} 位（现为 {len(value)} 位）")
    return bytes.fromhex(value)


def parse_secret(text: object, field: str = "secret") -> bytes:
    """A party's secret: hex, 16 to 512 bytes, upper or lower case."""
    return _hex_bytes(text, field, low=MIN_SECRET_BYTES, high=MAX_SECRET_BYTES)


def parse_commitment(text: object, field: str = "commitment") -> bytes:
    """A commitment: the 64 hex digits of a SHA-256."""
    value = _hex_bytes(text, field, low=32, high=32)
    return value


def commitment_of(secret: bytes) -> bytes:
    """A party's commitment: SHA-256 of the secret's bytes (the bytes the hex stands for, not the hex text)."""
    return hashlib.sha256(secret).digest()


def reveal_matches(secret: bytes, commitment: bytes) -> bool:
    """True when the revealed secret is the one committed to."""
    return hmac.compare_digest(commitment_of(secret), commitment)


def normalise_public_value(text: object) -> str:
    """A published value as entered: surrounding white space removed, inner runs of white space made one space."""
    if not isinstance(text, str):
        raise ValidationFailed.one("value", "应填写文字")
    value = " ".join(text.split())
    if not value:
        raise ValidationFailed.one("value", "必填")
    if len(value) > MAX_PUBLIC_VALUE_CHARS:
        raise ValidationFailed.one("value", f"最多 {MAX_PUBLIC_VALUE_CHARS} 个字符（现为 {len(value)} 个）")
    return value


def round_seed(population_digest: bytes, checkpoint_root: bytes, county_secret: bytes | None,
               insurer_secret: bytes | None, public_value: str | None) -> bytes:
    """The 32-byte seed of a commit-reveal round.

    seed = SHA-256( len(D) || D || len(R) || R || len(C) || C || len(I) || I || len(P) || P ), each len a 4-byte
    big-endian unsigned byte count, with D the population digest (32 bytes), R the root hash of the signed
    checkpoint covering the freezing entry (32 bytes), C the county's secret and I the insurer's secret (the
    revealed bytes, 16 to 512; zero bytes for a party passed over for not revealing), P the public value as
    UTF-8 after `normalise_public_value` (zero bytes when the round named none).
    """
    message = bytearray()
    for field, part in (("population_digest", population_digest), ("checkpoint_root", checkpoint_root)):
        if not isinstance(part, bytes) or len(part) != 32:
            raise ValidationFailed.one(field, "应为 32 字节")
        message += len(part).to_bytes(4, "big") + part
    for field, secret in (("county_secret", county_secret), ("insurer_secret", insurer_secret)):
        if secret is not None and (not isinstance(secret, bytes)
                                   or not MIN_SECRET_BYTES <= len(secret) <= MAX_SECRET_BYTES):
            raise ValidationFailed.one(field, f"应为 {MIN_SECRET_BYTES} 至 {MAX_SECRET_BYTES} 字节")
        message += len(secret or b"").to_bytes(4, "big") + (secret or b"")
    if county_secret is None and insurer_secret is None:
        raise ValidationFailed.one("secret", "至少须有一方的秘密值")
    public = b"" if public_value is None else normalise_public_value(public_value).encode("utf-8")
    message += len(public).to_bytes(4, "big") + public
    return hashlib.sha256(bytes(message)).digest()


def reveal_deadline(opened_on: date, within_days: int) -> date:
    """The last day to reveal: `within_days` after the day reveals opened (the freeze, or the public value's entry)."""
    return opened_on + timedelta(days=within_days)


def may_pass_over(today: date, deadline: date) -> bool:
    """A party that has not revealed may be passed over from the day after its deadline."""
    return today > deadline


def derive_seed(population_digest: bytes, checkpoint_root: bytes, randomness: bytes) -> bytes:
    """The 32-byte seed of a single-party draw (withdrawn: kept to replay rounds drawn before commit-reveal).

    seed = SHA-256( len(D) || D || len(R) || R || len(X) || X ), with D the population digest, R the audit-log
    checkpoint root hash, X the randomness supplied by the county, and each len a 4-byte big-endian unsigned
    byte count.
    """
    parts = {"population_digest": population_digest, "checkpoint_root": checkpoint_root, "randomness": randomness}
    message = bytearray()
    for field, part in parts.items():
        if not isinstance(part, bytes) or not part:
            raise ValidationFailed.one(field, "不能为空")
        message += len(part).to_bytes(4, "big") + part
    return hashlib.sha256(bytes(message)).digest()


def _rejection_sample(word: Callable[[int], int], bits: int, counter: int, bound: int) -> tuple[int, int]:
    """Uniform integer in [0, bound) from the words word(counter), word(counter + 1), ... of `bits` bits each.

    A word w is accepted when w < limit, limit being the largest multiple of bound not above 2^bits, and
    gives w mod bound; otherwise the next counter is tried. Returns (value, next unused counter).
    """
    space = 1 << bits
    if isinstance(bound, bool) or not isinstance(bound, int) or not 1 <= bound <= space:
        raise ValidationFailed.one("bound", f"应为 1 至 2^{bits} 之间的整数（现为 {bound!r}）")
    if isinstance(counter, bool) or not isinstance(counter, int) or counter < 0:
        raise ValidationFailed.one("counter_start", f"应为不小于 0 的整数（现为 {counter!r}）")
    limit = space - space % bound
    while True:
        if counter >= _COUNTER_LIMIT:
            raise ValidationFailed.one("counter_start", "64 位计数器已用尽")
        value = word(counter)
        counter += 1
        if value < limit:
            return value % bound, counter


def _hash_word(seed: bytes, counter: int) -> int:
    return int.from_bytes(hashlib.sha256(seed + counter.to_bytes(8, "big")).digest(), "big")


def uniform_below(seed: bytes, counter_start: int, bound: int) -> tuple[int, int]:
    """A uniform integer in [0, bound) and the next unused counter.

    Word i is SHA-256(seed || i as 8-byte big-endian unsigned) read as a 256-bit big-endian integer, for
    i = counter_start, counter_start + 1, ...; words at or above the largest multiple of `bound` not above
    2^256 are rejected (no modulo bias), and the first accepted word w gives w mod bound.
    """
    seed = _check_seed(seed)
    return _rejection_sample(lambda i: _hash_word(seed, i), _WORD_BITS, counter_start, bound)


def stratum_seed(seed: bytes, stratum: str) -> bytes:
    """The seed of one stratum: SHA-256(seed || stratum name as UTF-8), the seed being exactly 32 bytes."""
    return hashlib.sha256(_check_seed(seed) + stratum.encode("utf-8")).digest()


def draw_sample(seed: bytes, ids_sorted: Sequence[str], n: int, stratum_label: str = "") -> list[str]:
    """n distinct ids by a partial Fisher-Yates shuffle driven by `uniform_below`, in the order drawn.

    The ids are put in code-point order first (any order given yields the same sample). With a non-empty
    `stratum_label` the seed is first replaced by `stratum_seed(seed, stratum_label)`. Then, with counter c
    starting at 0 and carried from one call of `uniform_below` to the next: for i = 0 .. n-1,
    j = i + uniform_below(seed, c, len - i) and positions i and j are swapped; the sample is positions 0 .. n-1.
    A larger n with the same seed extends the same sequence, so a second stage drawing more from the same
    frozen population is `draw_sample(seed, ids, n1 + n2)[n1:]`.
    """
    seed = stratum_seed(seed, stratum_label) if stratum_label else _check_seed(seed)
    pool = _check_ids(ids_sorted, "ids")
    n = _count(n, "n")
    if n > len(pool):
        raise ValidationFailed.one("n", f"不能从 {len(pool)} 户中抽取 {n} 户")
    counter = 0
    for i in range(n):
        offset, counter = uniform_below(seed, counter, len(pool) - i)
        j = i + offset
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:n]


def draw_stratified(seed: bytes, strata: Mapping[str, Sequence[str]], allocation: Mapping[str, int]) -> dict[str, list[str]]:
    """Draw each stratum's allocated number with its own seed `stratum_seed(seed, name)`.

    Strata are processed in name order; a stratum missing from `allocation` gets none. A case id may belong
    to one stratum only.
    """
    _check_seed(seed)
    unknown = sorted(set(allocation) - set(strata))
    if unknown:
        raise ValidationFailed.one("allocation", f"没有这些分层：{'、'.join(unknown)}")
    _check_ids([case_id for ids in strata.values() for case_id in ids], "strata")
    return {name: draw_sample(stratum_seed(seed, name), strata[name], allocation.get(name, 0)) for name in sorted(strata)}




def mus_select(seed: bytes, items: Sequence[tuple[str, Fen]], n: int) -> list[str]:
    """Monetary-unit (probability proportional to amount) selection of about n items, in id order.

    The items are laid end to end in id order (code point), item i covering the fen (C_(i-1), C_i] of the
    cumulative total T. interval = T // n (integer fen); start = 1 + uniform_below(seed, 0, interval)[0], a
    fen in [1, interval]; the selection points are start, start + interval, ... up to T (n of them, or n + 1
    when start <= T mod interval), and an item is chosen when a point falls on it, once however many do.
    Every item of at least `interval` fen is chosen: its fen span holds `interval` consecutive values, one of
    them congruent to start modulo interval, and that value is a point since it is at least start (a smaller
    positive value congruent to start does not exist, start being at most interval) and at most T. An item
    of a < interval fen is chosen for exactly a of the interval possible starts (probability a / interval).
    Items of 0 fen are never chosen. If n exceeds T (interval 0), every item with a positive amount is chosen.
    """
    _check_seed(seed)
    n = _count(n, "n")
    _check_ids([item[0] for item in items], "items")
    for case_id, amount in items:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ValidationFailed.one("items", f"案件 {case_id} 的金额应为不小于 0 的整数（分）")
    ordered = sorted(items, key=lambda item: item[0])
    total = sum(amount for _, amount in ordered)
    if n == 0 or total == 0:
        return []
    interval = total // n
    if interval == 0:
        return [case_id for case_id, amount in ordered if amount > 0]
    return _mus_pick(ordered, interval, 1 + uniform_below(seed, 0, interval)[0])


def _mus_pick(ordered: Sequence[tuple[str, Fen]], interval: int, start: int) -> list[str]:
    """The items (in the given order) on which the points start, start + interval, ... fall, each once."""
    chosen: list[str] = []
    point, covered = start, 0
    for case_id, amount in ordered:
        end = covered + amount  # this item covers fen covered+1 .. end
        if point <= end:
            chosen.append(case_id)
            point += ((end - point) // interval + 1) * interval  # first point past this item
        covered = end
    return chosen
