"""What must never be learned from: the leakage guard.

Three nets. Fields that are the outcome or a person's verdict (``sources.NEVER``),
and what is not a trait of the lead (``sources.NOT_TRAITS``), are never read. Sources
a contact marks ``after_contact`` (recorded after the sales contact: the mapping says
so) are left out unless the caller asks for them, and then the model says it is
leaky. Last, any single feature that alone ranks won above lost almost perfectly
(AUC >= ``SEPARATES``, measured on the training rows) is left out and named: it is
the outcome in disguise far more often than a miracle. (Values recorded after the
outcome are handled earlier, by ``examples.known_before_outcome``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from funnel.engine.learn.features import Feature
from funnel.engine.learn.sources import NEVER, NOT_TRAITS, activity_source
from funnel.engine.learn.validate import auc

SEPARATES = 0.95
AFTER_CONTACT_WHY = "recorded after the sales contact (marked after_contact by the mapping)"


@dataclass
class Exclusion:
    feature: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "why": self.why}


def fixed_exclusions() -> list[Exclusion]:
    """The sources never read, whatever the data, with why."""
    return [Exclusion(name, why) for name, why in {**NEVER, **NOT_TRAITS}.items()]


def after_contact_exclusions(marked: set[str]) -> list[Exclusion]:
    """The marked sources (present in the data or not), each named once."""
    return [Exclusion(name, AFTER_CONTACT_WHY) for name in sorted(marked)]


def allowed_activity_kinds(kinds: tuple[str, ...], excluded: set[str]) -> list[str]:
    return [kind for kind in kinds if activity_source(kind) not in excluded]


def single_feature_auc(feature: Feature, codes: np.ndarray | None, tag_matrix: Any,
                       y: np.ndarray) -> list[tuple[str, float]]:
    """How well ``feature`` alone ranks the training rows: (name, AUC) per part.

    A coded feature scores each row by its level's share of positives (the best any
    use of that feature alone could rank); a tag feature, each tag on its own.
    """
    if feature.kind != "tags":
        assert codes is not None
        positives = np.bincount(codes, y, minlength=feature.width)
        totals = np.bincount(codes, minlength=feature.width)
        rate = (positives + 0.5) / (totals + 1.0)
        return [(feature.source, _two_sided(auc(rate[codes], y)))]
    found = []
    for column, tag in enumerate(feature.kept):
        found.append((f"tags:{tag}", _two_sided(auc(tag_matrix[:, column], y))))
    return found


def _two_sided(value: float) -> float:
    """A feature that ranks lost above won separates them just as well."""
    return max(value, 1.0 - value) if value == value else 0.5


def separating_why(value: float) -> str:
    return (f"alone separates won from lost (AUC {value:.3f} on the training part): "
            "almost surely recorded knowing the outcome")
