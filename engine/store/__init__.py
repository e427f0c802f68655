"""The contact store: TinyDB over a crash-safe journal with a writer lock.

Files: ``documents`` (encoding one contact), ``journal`` (snapshot + JSON-lines journal,
the TinyDB ``Storage``), ``migrate`` (schema versions), ``check`` (verify and repair),
``contacts`` (the ``ContactStore`` the workspace uses). May import ``funnel.engine.errors``
and ``funnel.engine.model`` only.
"""
