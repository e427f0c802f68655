"""Moving contacts in and out: reading CSV/JSON files, mappings, planning an import,
and exports (CSV with the spreadsheet-formula guard, JSON).

Reading: ``csvread`` and ``jsonread`` give a ``Table``; ``cells`` turns a cell into a
field value. Mappings: ``mapping`` (what one is), ``mapping_file`` (presets and
files), ``mapping_build`` (checking a file), ``mapping_guess`` (without one).
Importing: ``importer`` (plan and apply) over ``importrows`` (rows to ``incoming``
contacts), ``importmatch`` (duplicates, the database), ``importchanges`` (what a row
does to a contact, also when it changed after the plan), ``importlive`` (the batch
kept current while others edit), ``importplan`` and ``batch``. Exporting: ``exporter``.

May import ``funnel.engine.rules`` (presets) and the shared modules; the workspace
commits what is planned here, and is known only through ``workspace_protocols``.
"""
