"""Random streams: one independent generator per (replication, concern), repositioned
at the start of every day.

Each concern of the model draws from its own stream, keyed
``SeedSequence(root, spawn_key=(replication, STREAM_ID))``. The variant is *not* in the key:
replication r of every variant sees the same customers and the same luck (common random
numbers), so differences between variants are paired and far less noisy. Stream ids are
append-only: a new concern gets a new id, and existing results never change because of it.

Per-customer draws take one number per customer row. Two variants soon differ in how many
customers they have, and with one running sequence every later draw would shift; so each
day starts at its own position, ``day x 2**50`` draws into the stream (PCG64 jumps there
in O(log n)), and customer i's draw on day t is the same in every variant that has a
customer i. Misalignment can last a day at most. These sequential streams remain for
the draws that are not per customer (how many prospects, word of mouth, the rival, the
policy's own draws).

Per-customer draws are counter-based (:meth:`Streams.uniform`): the number customer ``i``
gets on day ``t`` from a concern is a pure function of (root seed, replication, concern,
day, slot, i), so only the customers who need a number draw one (today's shoppers, its
buyers, the active), and common random numbers hold exactly: the same customer, day and
concern give the same number in every variant, whichever other customers exist. A
sequential generator cannot do this cheaply: it would draw a full row for every customer
who ever existed, every day (issue #15), and numpy's Philox, though counter-based, can
only be positioned one counter at a time, not gathered at a vector of counters. So the
draw is a vectorised counter-based hash over uint64: the SplitMix64 output function
(Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators", OOPSLA; the
finaliser is Stafford's "Mix13" variant of MurmurHash3's fmix64) applied to
``key + i * gamma``, where ``gamma`` is the golden-ratio increment of SplitMix64 and
``key`` mixes the stream's key (the first word of
``SeedSequence(root, spawn_key=(replication, STREAM_ID))``) with the day and a slot (a
concern that needs several numbers per customer and day uses one slot for each). This is
exactly SplitMix64's i-th output from seed ``key``: it passes BigCrush (Steele et al.),
and two (day, slot) pairs give overlapping runs of ids only if their keys fall within
(number of ids) x gamma of each other, a chance of about 2**-40 per pair at 10 million
customers. Uniforms take the top bits (24 for float32, 53 for float64), so they lie in
[0, 1); tests/unit/test_rng.py checks uniformity, independence across adjacent ids,
days and concerns, and the common-random-numbers property.
"""

from __future__ import annotations

import numpy as np

STREAMS: dict[str, int] = {
    "population": 0,  # initial customers' traits
    "arrivals": 1,  # purchase occasions
    "awareness": 2,  # is the competitor on the customer's mind today
    "choice": 3,  # focal / competitor / no purchase
    "service": 4,  # experienced quality and service events
    "complaints": 5,  # complaining, resolution and its delay
    "churn": 6,  # defection and its cause
    "word_of_mouth": 7,
    "followups": 8,
    "acquisition": 9,  # prospects, conversion, new customers' traits
    "policy": 10,  # discount policies' own draws (win-back take-up)
    "quality": 11,  # the noise of each visit's experienced quality
    "survey": 12,  # who is invited to a survey, who answers, and what they say
    "rival": 13,  # the competitor's reactions to the business's prices
}

DAY_SPACING = 2**50  # draws reserved per day and stream: far more than any day uses

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15  # SplitMix64's increment: odd, 2**64 / golden ratio
MIX1, MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # Stafford's Mix13 multipliers
SLOTS = 16  # numbers per customer, day and concern (slot 0 .. SLOTS - 1)
_FLOAT32_STEP = np.float32(2.0**-24)
_FLOAT64_STEP = 2.0**-53


def mix64_scalar(z: int) -> int:
    """The SplitMix64 finaliser on one Python integer (mod 2**64)."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


_U = {name: np.uint64(v) for name, v in (("gamma", GAMMA), ("mix1", MIX1), ("mix2", MIX2))}
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(40), np.uint64(11))


def mix64(z: np.ndarray, t: np.ndarray | None = None) -> np.ndarray:
    """The SplitMix64 finaliser, in place on a uint64 array (products wrap mod 2**64);
    ``t``, a scratch array of z's shape, saves allocating one."""
    t = np.empty_like(z) if t is None else t
    np.right_shift(z, _SHIFTS[0], out=t)
    z ^= t
    z *= _U["mix1"]
    np.right_shift(z, _SHIFTS[1], out=t)
    z ^= t
    z *= _U["mix2"]
    np.right_shift(z, _SHIFTS[2], out=t)
    z ^= t
    return z


CHUNK = 32768  # ids hashed at a time: two 256 KiB working arrays stay in a 1 MiB L2 cache


def _hash_chunk(z: np.ndarray, ids: np.ndarray, key: np.uint64 | np.ndarray, t: np.ndarray) -> None:
    """``z = mix64(key + ids * gamma)`` in place, ``t`` a scratch array of z's shape. A
    column of keys (shape ``(k, 1)``) hashes ``ids`` under each key, one row per key."""
    z[...] = ids
    z *= _U["gamma"]
    z += key
    mix64(z, t)


def _as_uniform(z: np.ndarray, t: np.ndarray, dtype: type) -> np.ndarray:
    """Uniforms on [0, 1) from the top 24 (float32) or 53 (float64) bits of ``z``."""
    f32 = dtype is np.float32
    np.right_shift(z, _SHIFTS[3] if f32 else _SHIFTS[4], out=t)
    u: np.ndarray = t.astype(dtype)
    u *= _FLOAT32_STEP if f32 else _FLOAT64_STEP
    return u


def counter_bits(key: int, ids: np.ndarray) -> np.ndarray:
    """64 random bits per id: SplitMix64's ``ids``-th outputs from seed ``key``."""
    ids = np.asarray(ids)
    out = np.empty(len(ids), np.uint64)
    t = np.empty(min(CHUNK, len(ids)), np.uint64)
    k = np.uint64(key)
    for start in range(0, len(ids), CHUNK):
        z = out[start : start + CHUNK]
        _hash_chunk(z, ids[start : start + CHUNK], k, t[: len(z)])
    return out


def counter_uniform(key: int, ids: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """``bits_to_uniform(counter_bits(key, ids), dtype)``, a chunk at a time."""
    ids = np.asarray(ids)
    f32 = dtype is np.float32
    if len(ids) <= CHUNK:  # one chunk (most days' draws): no loop, no copy out
        z, t = np.empty(len(ids), np.uint64), np.empty(len(ids), np.uint64)
        _hash_chunk(z, ids, np.uint64(key), t)
        return _as_uniform(z, t, dtype)
    out: np.ndarray = np.empty(len(ids), dtype)
    size = min(CHUNK, len(ids))
    z, t = np.empty(size, np.uint64), np.empty(size, np.uint64)
    k = np.uint64(key)
    step = _FLOAT32_STEP if f32 else _FLOAT64_STEP
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        zc, tc = z[: len(part)], t[: len(part)]
        _hash_chunk(zc, part, k, tc)
        np.right_shift(zc, _SHIFTS[3] if f32 else _SHIFTS[4], out=tc)
        u = out[start : start + CHUNK]
        u[...] = tc
        u *= step
    return out


def bits_to_uniform(bits: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """Uniforms on [0, 1) from the top 24 (float32) or 53 (float64) bits."""
    return _as_uniform(bits, np.empty_like(bits), dtype)


def stream(root_seed: int, replication: int, concern: str) -> np.random.Generator:
    """The generator of one concern in one replication."""
    seq = np.random.SeedSequence(root_seed, spawn_key=(replication, STREAMS[concern]))
    return np.random.Generator(np.random.PCG64(seq))


class Streams:
    """All streams of one replication, by concern name, each positioned at today's start."""

    def __init__(self, root_seed: int, replication: int) -> None:
        self._generators = {name: stream(root_seed, replication, name) for name in STREAMS}
        self._origins = {name: g.bit_generator.state for name, g in self._generators.items()}
        self._keys = {name: stream_key(root_seed, replication, name) for name in STREAMS}
        self._day = 0
        self._stale: set[str] = set()  # streams not yet moved to today's first draw

    def uniform(
        self, concern: str, day: int, ids: np.ndarray, slot: int = 0, dtype: type = np.float32
    ) -> np.ndarray:
        """One uniform on [0, 1) per customer id in ``ids``, for ``concern`` on ``day``
        (``slot`` tells apart several numbers of one concern a day): the same id, day,
        concern and slot give the same number whatever else is drawn, in every variant."""
        return counter_uniform(self.day_key(concern, day, slot), ids, dtype)

    def uniforms(
        self,
        draws: tuple[tuple[str, int], ...],
        day: int,
        ids: np.ndarray,
        dtype: type = np.float32,
    ) -> np.ndarray:
        """``uniform(concern, day, ids, slot, dtype)`` for each ``(concern, slot)`` of
        ``draws``, one row each: the same numbers, hashed in one pass over the rows
        (several concerns' numbers for the same customers cost one call's overhead)."""
        ids = np.asarray(ids)
        if len(ids) > CHUNK:  # large: chunked one draw at a time, as uniform does
            return np.stack([self.uniform(c, day, ids, s, dtype) for c, s in draws])
        keys = np.array([self.day_key(c, day, s) for c, s in draws], np.uint64)[:, None]
        z = np.empty((len(draws), len(ids)), np.uint64)
        t = np.empty_like(z)
        _hash_chunk(z, ids, keys, t)
        return _as_uniform(z, t, dtype)

    def day_key(self, concern: str, day: int, slot: int = 0) -> int:
        """The SplitMix64 seed of one concern's per-customer numbers on one day and slot."""
        if not 0 <= slot < SLOTS:
            raise ValueError(f"slot {slot} outside 0..{SLOTS - 1}")
        return mix64_scalar(self._keys[concern] ^ mix64_scalar((day * SLOTS + slot + 1) * GAMMA))

    def __getitem__(self, concern: str) -> np.random.Generator:
        generator = self._generators[concern]
        if concern in self._stale:  # first use today: move it to the day's first draw
            self._stale.discard(concern)
            bits = generator.bit_generator
            bits.state = self._origins[concern]
            bits.advance(self._day * DAY_SPACING)  # type: ignore[attr-defined]
        return generator

    def start_day(self, day: int) -> None:
        """Move every stream to the first draw reserved for ``day``. Lazily: a stream is
        repositioned when it is first taken today (most concerns draw per customer,
        through :meth:`uniform`, and a day touches few sequential streams), which gives
        the same draws as moving them all now. A generator taken on an earlier day must
        not be kept: take it again (``streams[concern]``) each day."""
        self._day = day
        self._stale = set(self._generators)


def stream_key(root_seed: int, replication: int, concern: str) -> int:
    """The 64-bit key of one concern's counter-based draws in one replication."""
    seq = np.random.SeedSequence(root_seed, spawn_key=(replication, STREAMS[concern]))
    return int(seq.generate_state(1, np.uint64)[0])


def streams(root_seed: int, replication: int) -> Streams:
    """All streams of one replication."""
    return Streams(root_seed, replication)


def fresh_root_seed() -> int:
    """A root seed from the operating system's entropy, for runs given no seed (it is
    recorded in the manifest, so such a run can still be reproduced)."""
    return int(np.random.SeedSequence().entropy % (2**63))  # type: ignore[operator]
