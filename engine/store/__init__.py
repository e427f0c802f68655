"""The contact store: TinyDB over a crash-safe journal with a writer lock.

From the bottom up:

- ``layout`` (which files make a database), ``lock`` (the writer lock), ``values``
  (only JSON-native values are stored), ``documents`` (a table's lazily parsed documents),
  ``seal`` (the checksums that make damage visible), ``damage`` (the kinds of damage);
- ``snapshot`` (the snapshot file's layout), ``migrate`` (schema versions), ``records``
  (the journal's lines, sealed and chained);
- ``journal_scan`` (what is wrong with a journal, and what can be saved), ``replica``
  (this process's tables, caught up with the journal), ``compaction`` (folding the
  journal into a snapshot), ``journal`` (the TinyDB ``Storage``);
- ``contacts`` (the ``ContactStore`` the workspace uses); ``snapshot_scan`` and
  ``quarantine`` (reading a damaged snapshot, keeping what cannot be read) and
  ``check`` (``funnel check``: find every kind of damage, save what can be saved).

May import ``funnel.engine.errors``, ``funnel.engine.model`` and ``funnel.engine.files``
(the one atomic file writer) only.
"""
