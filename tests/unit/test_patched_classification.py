"""After a few edits only the changed rows are classified again (one by one) into the
kept column classification; its integers are held narrow (``columns.narrow``), so a
value outside their type must widen the array, not wrap around."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


def test_a_patched_row_out_of_the_narrow_range_reads_back_as_classified(tmp_path):
    with Workspace.open(tmp_path / "d.json", None, clock=lambda: NOW, user="ola") as workspace:
        ids = workspace.add_many(generate_contacts(60, 3, NOW.replace(hour=0)))
        before = workspace.classify_all()
        found = workspace._cache._columns.classified(NOW)
        assert found.result.raw_score.dtype == np.int8  # narrow, as classified in bulk
        top = max(ids, key=lambda contact_id: before[contact_id].raw_score)
        low = min(ids, key=lambda contact_id: before[contact_id].raw_score)
        assert before[top].raw_score + 100 > 127  # the edit leaves int8's range
        workspace.adjust_score(top, 100, "a test of the range")
        workspace.adjust_score(low, -100, "and the other way")
        after = workspace.classify_all()  # patched: two rows again, one by one
        for contact_id in ids:
            scalar = workspace.classification(contact_id)
            row = after[contact_id]
            assert (row.raw_score, row.score, row.fit, row.engagement, row.stage) == (
                scalar.raw_score, scalar.score, scalar.fit, scalar.engagement, scalar.stage)
        assert after[top].raw_score == before[top].raw_score + 100
        assert after[low].raw_score == before[low].raw_score - 100
