"""A Slack thread, as sessions name it (`slack:<team>:<channel>:<thread_ts>`)."""

from __future__ import annotations

from dataclasses import dataclass

from core.platform import SLACK


@dataclass(frozen=True, kw_only=True)
class Thread:
    team: str
    channel: str
    ts: str

    @property
    def ref(self) -> str:
        return f"slack:{self.team}:{self.channel}:{self.ts}"

    @property
    def is_dm(self) -> bool:
        """A direct message with the bot (Slack's D… conversation ids)."""
        return self.channel.startswith("D")

    @classmethod
    def parse(cls, ref: str | None) -> Thread | None:
        parts = (ref or "").split(":")
        if len(parts) != 4 or parts[0] != SLACK:
            return None
        return cls(team=parts[1], channel=parts[2], ts=parts[3])
