"""Rules: the condition language, facts read from a contact, loading and editing rules
files, and classifying one contact with its explanation.

May import ``funnel.engine.errors`` and ``funnel.engine.model``; never the store,
the workspace or a front end.
"""
