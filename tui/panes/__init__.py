"""One sub-package per tab: contacts (list, card, triage), funnel, scoring."""
