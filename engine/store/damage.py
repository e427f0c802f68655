"""What ``funnel check`` (and an open that refuses a file) can find: the kinds of damage,
and the unreadable bytes it sets aside.

Kinds (the names ``funnel check --json`` gives, a stable contract):

- journal: ``gap`` (commits missing), ``reordered`` (records out of order),
  ``duplicate`` (a record twice), ``bad-checksum`` (a record's bytes changed),
  ``damaged-record`` (a record that cannot be read), ``broken-chain`` (a record that
  does not follow the one before it), ``lock-replaced`` (two commits with one number:
  two writers were not kept apart, as when the lock file was removed while held),
  ``damaged-header``;
- snapshot: ``damaged-document`` (a document that cannot be read), ``layout`` (more than
  one document on a line: readable, but not as Funnel writes it), ``bad-checksum``
  (bytes changed, every document still readable), ``truncated``, ``trailing-garbage``,
  ``damaged-header``;
- documents: ``incomplete-document`` (lacks history, rev or created_at),
  ``not-a-document``.

Notices are not damage: nothing acknowledged was harmed (``torn-tail``: a write
interrupted before it was acknowledged; ``old-schema``; ``migrated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Damage:
    kind: str
    where: str  # file:line, or the file
    detail: str  # what is wrong, for a person (an open that refuses the file says it)
    contacts: list[int] = field(default_factory=list)  # concerned: quarantined or suspect
    lost: list[int] = field(default_factory=list)  # acknowledged commits lost (by seq)
    remedy: str = ""  # what a repair does about it

    def to_dict(self) -> dict:
        return {"kind": self.kind, "where": self.where, "detail": self.detail,
                "remedy": self.remedy, "contacts": self.contacts, "lost": self.lost}


@dataclass
class Quarantined:
    """Bytes that could not be read, kept as they were found."""

    source: str  # the file and line they came from
    what: str  # what they were meant to be
    data: bytes
    contacts: list[int] = field(default_factory=list)  # contacts whose only copy this is


def contact_ids(keys: object) -> list[int]:
    """The contact ids among document keys (others are not contacts)."""
    return sorted(int(key) for key in keys if isinstance(key, str) and key.isdigit()) \
        if isinstance(keys, (list, dict, set, tuple)) else []


def numbers(values: list[int]) -> str:
    """``[3, 4, 5, 9]`` as "3-5, 9"."""
    spans: list[list[int]] = []
    for value in sorted(set(values)):
        if spans and value == spans[-1][1] + 1:
            spans[-1][1] = value
        else:
            spans.append([value, value])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
