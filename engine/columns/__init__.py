"""The column store: what rules and filters read, as numpy arrays over all contacts.

``table`` holds the columns (``ContactColumns``: one array per field, activities as
flat entries) and keeps them current with ``put``/``remove``; ``fact_columns`` derives
the rule facts at a moment; ``evaluate`` decides a rule condition for every contact at
once, with the same answer as the per-contact path. Built on ``engine.rules`` and
``engine.model``; the rules never import it.
"""
