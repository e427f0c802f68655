"""Moving contacts in and out: reading CSV/JSON files, mappings, planning an import,
and exports (CSV with the spreadsheet-formula guard, JSON).

May import ``funnel.engine.rules`` (presets) and the shared modules; the workspace
commits what is planned here.
"""
