"""Funnel's engine: contacts, rules, classification, storage and the workspace API.

Sub-packages, from the bottom up:

- ``store``: the crash-safe, multi-process TinyDB storage (journal, lock, compaction,
  migrations, check and repair);
- ``rules``: the rules language (conditions, facts), loading and editing rules files,
  and classifying one contact;
- ``transfer``: reading CSV/JSON files, mappings, import and export;
- ``workspace``: the one API that every front end calls (queries, commands, undo, events);
- ``reports``: figures computed over a workspace (the stage lifecycle);
- ``demo``: realistic synthetic contacts.

Shared by all of them, importing nothing else of Funnel's: ``errors``, ``model``
(fields, values, dates), ``text`` (which characters are unsafe on a terminal),
``files`` (the one atomic file write) and ``yaml_lines`` (YAML with line numbers).
Nothing here imports Textual, Rich or asyncssh (a test and the import contract check it).
"""

from funnel.engine.rules.classify import Classification, classify
from funnel.engine.rules.loading import load_rules

__all__ = ["Classification", "classify", "load_rules"]
