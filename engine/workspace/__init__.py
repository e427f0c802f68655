"""The workspace: the one API that the app, the command line and the SSH sessions call.

It owns the store and the rules, answers queries (filter, sort, views, counts),
runs commands (edit, add, move, disqualify, log, import batches) through one write
path, keeps undo and redo, and notifies subscribers of every change.

Modules: ``facade`` (``Workspace``, composing the parts below), ``shared`` (what the
parts share), ``cache`` (classifications, slim copies, activity summaries; bulk
passes, ``forked`` shares them with a child process), ``bulk`` (what bulk passes
share: the GC pause, counts), ``query`` (the filter language and sort orders),
``commands`` (edit, add, move…), ``documents`` (building the documents they write),
``writer`` (the one write path), ``undo``, ``events`` (change events, subscribers),
``batch_commit`` (imports).
"""

from funnel.engine.workspace.facade import ChangeEvent, EditResult, Row, Workspace, bulk_work

__all__ = ["ChangeEvent", "EditResult", "Row", "Workspace", "bulk_work"]
