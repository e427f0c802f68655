"""The learned likelihood of every contact as a column, for filters and sorts.

The model ``funnel learn`` saved beside the database is read again only when the file
changes; the contacts are scored over the columns (no document is parsed) and kept
until the columns, the model or the day change.
"""

from __future__ import annotations

import os
from datetime import datetime

import numpy as np

from funnel.engine.columns.table import ContactColumns
from funnel.engine.learn.from_columns import scored_from_columns
from funnel.engine.learn.model_file import Model, load_model, model_path
from funnel.engine.learn.score import Scored
from funnel.engine.workspace.shared import Shared

__all__ = ["LikelihoodColumn", "Scored"]


class LikelihoodColumn:
    """See the module docstring; used under the workspace lock."""

    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self._model: Model | None = None
        self._model_stamp: tuple[int, int] | None = None
        self._kept: tuple[object, int, object, np.ndarray] | None = None
        self.scored: Scored | None = None

    def model(self) -> Model | None:
        """The saved model (read again when its file changed), or None."""
        path = model_path(self._shared.store.path)
        try:
            status = os.stat(path)
            stamp = (status.st_mtime_ns, status.st_size)
        except OSError:
            self._model, self._model_stamp = None, None
            return None
        if stamp != self._model_stamp:
            self._model, self._model_stamp = load_model(path), stamp
        return self._model

    def per_row(self, table: ContactColumns, now: datetime) -> np.ndarray | None:
        """The likelihood of every row of ``table`` (NaN for dead rows), or None."""
        model = self.model()
        if model is None:
            return None
        key = (model, table.version, now.date())
        if self._kept is not None and self._kept[:3] == (key[0], key[1], key[2]) \
                and len(self._kept[3]) == table.rows:
            return self._kept[3]
        scored = scored_from_columns(model, table, now)
        values = np.full(table.rows, np.nan)
        rows = np.fromiter((table.row_of[contact_id] for contact_id in scored.ids), np.int64,
                           len(scored.ids))
        values[rows] = scored.likelihood
        self._kept, self.scored = (model, table.version, now.date(), values), scored
        return values
