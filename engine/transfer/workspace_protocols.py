"""What importing and exporting need of a workspace, as Protocols.

The workspace sits above this package (it commits what an import plans), so this
package cannot import it; these name the few parts it uses instead.
``engine.workspace.Workspace`` satisfies both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable, Protocol, Sequence

from funnel.engine.rules.classify import Classification
from funnel.engine.rules.ruleset import Rules
from funnel.engine.transfer.batch import BatchResult, LiveBatch


class ImportTarget(Protocol):
    """The database an import is matched against and written to."""

    @property
    def rules(self) -> Rules: ...

    @property
    def version(self) -> int: ...  # changes with every commit

    def now(self) -> datetime: ...

    def documents(self) -> Iterable[tuple[int, dict[str, Any]]]: ...

    def classification(self, contact_id: int) -> Classification: ...

    def commit_live_batch(self, batch: LiveBatch, by: str, *, strict: bool = False,
                          progress: Callable[[str, int, int], None] | None = None
                          ) -> BatchResult: ...


class ContactRow(Protocol):
    """One contact as a query lists it."""

    @property
    def id(self) -> int: ...

    @property
    def contact(self) -> dict[str, Any]: ...

    @property
    def classification(self) -> Classification: ...


class ExportSource(Protocol):
    """The database an export reads."""

    @property
    def rules(self) -> Rules: ...

    def row(self, contact_id: int) -> tuple[dict[str, Any], Classification]: ...

    def contacts(self, query: str | None = None) -> Sequence[ContactRow]: ...

    def explained(self, contact_id: int) -> Classification: ...
