"""The learned model as a readable JSON file beside the database it was learned from.

``PATH.model.json`` beside the database ``PATH``: the model describes that database's
contacts (one rules folder may serve many databases), like the column cache
``PATH.columns``. The file holds the features (their levels or bins and one weight
per column), the intercept, the calibration, when and on what it was trained (the
database, counts, the rules' fingerprint), what was left out and why, and the
held-out figures. Written atomically; read with limits and checks, and a file that
is not a model gives one clear error.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funnel.engine.errors import FunnelError
from funnel.engine.files import AtomicFile
from funnel.engine.learn.features import Feature
from funnel.engine.learn.leakage import Exclusion

FORMAT = 1
FILE_MODE = 0o640
MAX_BYTES = 64 * 2**20


def model_path(db: str | os.PathLike[str]) -> Path:
    """Where the model of the database ``db`` lives."""
    path = Path(db)
    return path.with_name(path.name + ".model.json")


@dataclass
class Model:
    """A fitted, calibrated model: everything scoring needs, and what it was made of."""

    features: list[Feature]
    intercept: float
    slope: float = 1.0  # calibration: p = sigmoid(slope * z + shift)
    shift: float = 0.0
    half_life_days: float = 45.0
    activity_kinds: list[str] = field(default_factory=list)  # read by days_since_activity
    uses_after_contact: bool = False
    excluded: list[Exclusion] = field(default_factory=list)
    trained_at: str = ""
    trained_on: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)

    @property
    def baseline(self) -> float:
        """Calibrated log-odds of a contact whose every feature is at the training mean."""
        return self.slope * (self.intercept + sum(f.centre for f in self.features)) + self.shift

    def to_dict(self) -> dict[str, Any]:
        return {
            "funnel_model": FORMAT,
            "kind": "L2 logistic regression, Platt-calibrated",
            "trained_at": self.trained_at,
            "trained_on": self.trained_on,
            "uses_after_contact": self.uses_after_contact,
            "leaky": self.uses_after_contact,
            "half_life_days": self.half_life_days,
            "activity_kinds": self.activity_kinds,
            "intercept": round(self.intercept, 6),
            "calibration": {"slope": round(self.slope, 6), "shift": round(self.shift, 6)},
            "features": [feature.to_dict() for feature in self.features],
            "excluded": [item.to_dict() for item in self.excluded],
            "validation": self.validation,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "Model":
        if not isinstance(data, dict) or data.get("funnel_model") != FORMAT:
            raise ValueError(f"not a funnel model (format {FORMAT})")
        calibration = data.get("calibration") or {}
        return cls(
            features=[Feature.from_dict(item) for item in data["features"]],
            intercept=float(data["intercept"]),
            slope=float(calibration.get("slope", 1.0)),
            shift=float(calibration.get("shift", 0.0)),
            half_life_days=float(data.get("half_life_days", 45.0)),
            activity_kinds=[str(kind) for kind in data.get("activity_kinds") or []],
            uses_after_contact=bool(data.get("uses_after_contact")),
            excluded=[Exclusion(str(item["feature"]), str(item["why"]))
                      for item in data.get("excluded") or []],
            trained_at=str(data.get("trained_at", "")),
            trained_on=dict(data.get("trained_on") or {}),
            validation=dict(data.get("validation") or {}))


def save_model(model: Model, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    text = json.dumps(model.to_dict(), ensure_ascii=False, indent=1)
    try:
        with AtomicFile(target, FILE_MODE) as temp:
            temp.write(text + "\n")
            temp.install()
    except OSError as error:
        raise FunnelError(f"{target}: cannot save the model: {error.strerror or error}") \
            from None
    return target


def load_model(path: str | os.PathLike[str]) -> Model | None:
    """The model saved at ``path``; None when there is none; FunnelError if unreadable."""
    target = Path(path)
    try:
        if not target.is_file():
            return None
        if target.stat().st_size > MAX_BYTES:
            raise FunnelError(f"{target}: larger than {MAX_BYTES // 2**20} MB: not a model "
                              "file; delete it and run funnel learn again")
        data = json.loads(target.read_text(encoding="utf-8"))
        return Model.from_dict(data)
    except OSError as error:
        raise FunnelError(f"{target}: cannot read the model: {error.strerror or error}") \
            from None
    except (ValueError, KeyError, TypeError) as error:
        raise FunnelError(f"{target}: not a readable model ({error}); delete it and run "
                          "funnel learn again") from None
