"""The contact store: TinyDB over a crash-safe journal with a writer lock.

From the bottom up:

- ``layout`` (which files make a database), ``lock`` (the writer lock), ``values``
  (only JSON-native values are stored), ``documents`` (a table's lazily parsed documents);
- ``snapshot`` (the snapshot file's layout), ``migrate`` (schema versions), ``records``
  (the journal's lines);
- ``replica`` (this process's tables, caught up with the journal), ``compaction``
  (folding the journal into a snapshot), ``journal`` (the TinyDB ``Storage``);
- ``contacts`` (the ``ContactStore`` the workspace uses), ``check`` (verify and repair).

May import ``funnel.engine.errors``, ``funnel.engine.model`` and ``funnel.engine.files``
(the one atomic file writer) only.
"""
