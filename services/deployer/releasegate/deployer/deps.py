"""What deployer handlers get from the composition root."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from releasegate.deployer.repository import DeployerStore
from releasegate.deployer.targets.base import Target
from releasegate.shared.bus.base import Bus
from releasegate.shared.clock import Clock
from releasegate.shared.locks import KeyedLocks


@dataclass(frozen=True)
class Deps:
    store: DeployerStore
    target: Target
    locks: KeyedLocks
    bus: Bus
    clock: Clock
    attempts: int = 5
    backoff_s: float = 0.2
    backoff_max_s: float = 5.0
    progress_note_after_s: float = 0.25
    rng: random.Random = field(default_factory=random.Random)
