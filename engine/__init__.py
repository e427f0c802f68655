"""Funnel's engine: contacts, rules, classification and the workspace API.

Nothing here imports Textual or Rich.
"""

from .classify import Classification, classify
from .config import load_rules

__all__ = ["Classification", "classify", "load_rules"]
