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
customer i. Misalignment can last a day at most.
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


def stream(root_seed: int, replication: int, concern: str) -> np.random.Generator:
    """The generator of one concern in one replication."""
    seq = np.random.SeedSequence(root_seed, spawn_key=(replication, STREAMS[concern]))
    return np.random.Generator(np.random.PCG64(seq))


class Streams:
    """All streams of one replication, by concern name, each positioned at today's start."""

    def __init__(self, root_seed: int, replication: int) -> None:
        self._generators = {name: stream(root_seed, replication, name) for name in STREAMS}
        self._origins = {name: g.bit_generator.state for name, g in self._generators.items()}

    def __getitem__(self, concern: str) -> np.random.Generator:
        return self._generators[concern]

    def start_day(self, day: int) -> None:
        """Move every stream to the first draw reserved for ``day``."""
        for name, generator in self._generators.items():
            bits = generator.bit_generator
            bits.state = self._origins[name]
            bits.advance(day * DAY_SPACING)  # type: ignore[attr-defined]


def streams(root_seed: int, replication: int) -> Streams:
    """All streams of one replication."""
    return Streams(root_seed, replication)


def fresh_root_seed() -> int:
    """A root seed from the operating system's entropy, for runs given no seed (it is
    recorded in the manifest, so such a run can still be reproduced)."""
    return int(np.random.SeedSequence().entropy % (2**63))  # type: ignore[operator]
