"""What one generator run remembers from contact to contact."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunState:
    now: int  # seconds since the epoch; nothing is dated later
    emails: dict[str, int] = field(default_factory=dict)  # address -> times used
    ambassadors: list[str] = field(default_factory=list)  # names who referred someone
    external_id: int = 0  # the last EXT- number handed out
