"""The workspace: the one API that the app, the command line and the SSH sessions call.

It owns the store and the rules, answers queries (filter, sort, views, counts),
runs commands (edit, add, move, disqualify, log, import batches) through one write
path, keeps undo and redo, and notifies subscribers of every change.
"""

from funnel.engine.workspace.facade import ChangeEvent, EditResult, Row, Workspace, bulk_work

__all__ = ["ChangeEvent", "EditResult", "Row", "Workspace", "bulk_work"]
