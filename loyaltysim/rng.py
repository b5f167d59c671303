"""Random streams: one independent generator per (replication, concern).

Each concern of the model draws from its own stream, keyed
``SeedSequence(root, spawn_key=(replication, STREAM_ID))``. The variant is *not* in the key:
replication r of every variant sees the same customers and the same luck (common random
numbers), so differences between variants are paired and far less noisy. Stream ids are
append-only: a new concern gets a new id, and existing results never change because of it.
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
}


def stream(root_seed: int, replication: int, concern: str) -> np.random.Generator:
    """The generator of one concern in one replication."""
    seq = np.random.SeedSequence(root_seed, spawn_key=(replication, STREAMS[concern]))
    return np.random.Generator(np.random.PCG64(seq))


def streams(root_seed: int, replication: int) -> dict[str, np.random.Generator]:
    """All streams of one replication, by concern name."""
    return {name: stream(root_seed, replication, name) for name in STREAMS}


def fresh_root_seed() -> int:
    """A root seed from the operating system's entropy, for runs given no seed (it is
    recorded in the manifest, so such a run can still be reproduced)."""
    return int(np.random.SeedSequence().entropy % (2**63))  # type: ignore[operator]
