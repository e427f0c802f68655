"""The workspace: the one API that the app, the command line and the SSH sessions call.

It owns the store and the rules, answers queries (filter, sort, views, counts),
runs commands (edit, add, move, disqualify, log, import batches) through one write
path, keeps undo and redo, and notifies subscribers of every change.

Modules: ``facade`` (``Workspace``, composing the parts below), ``shared`` (what the
parts share), ``cache`` (classifications of single contacts, and ``column_state``:
every contact's columns and their classification, kept current), ``column_rows``
(rows and counts read back from the columns), ``query`` and ``dates_filter`` (the
filter language as masks), ``sorting`` (sort orders), ``list_context`` and
``value_tables`` (what filters and sorts read), ``bulk`` (the GC pause of bulk
passes), ``forked`` (an import builds half its documents in a child process),
``commands`` (edit, add, move…), ``documents`` (building the documents they write),
``writer`` (the one write path), ``undo``, ``events`` (change events, subscribers),
``batch_commit`` (imports), ``bulk_edit`` (actions on many marked contacts) and
``many`` (their one commit of many contacts).
"""

from funnel.engine.workspace.facade import ChangeEvent, EditResult, Row, Workspace, bulk_work

__all__ = ["ChangeEvent", "EditResult", "Row", "Workspace", "bulk_work"]
