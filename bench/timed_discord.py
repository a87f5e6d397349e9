"""The test suite's fake Discord, noting when each interaction's answer landed.

An interaction counts as completed when its first follow-up (the answer after the deferral)
is accepted (the fake's ``on_followup``): ``completed_at[interaction_id]`` is that moment
(``time.monotonic()``, the fake's clock, as ``FakeInteraction.dispatched_at`` is), and
``on_completed(interaction_id)`` is called then, when set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from bench.polling import wait_until
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_models import FakeInteraction


class TimedDiscord(FakeDiscord):
    """``FakeDiscord`` with ``completed_at`` and ``on_completed``; see the module docs."""

    def __init__(self, *, shard_count: int = 1) -> None:
        super().__init__(shard_count=shard_count)
        self.completed_at: dict[int, float] = {}
        self.on_completed: Callable[[int], None] | None = None
        self.on_followup = self._note_followup

    def _note_followup(self, interaction: FakeInteraction) -> None:
        if interaction.id not in self.completed_at:
            self.completed_at[interaction.id] = time.monotonic()
            if self.on_completed is not None:
                self.on_completed(interaction.id)

    def completion(self, interaction: FakeInteraction) -> float | None:
        """Seconds from the interaction's dispatch to its answer; None if not answered."""
        done = self.completed_at.get(interaction.id)
        if done is None or interaction.dispatched_at is None:
            return None
        return done - interaction.dispatched_at

    async def wait_completed(self, interactions: Sequence[FakeInteraction], within: float) -> None:
        """Until every one of ``interactions`` completed, or ``within`` seconds passed."""
        await wait_until(lambda: all(i.id in self.completed_at for i in interactions), within)
