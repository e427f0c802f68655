"""The Contacts tab: the virtual list, the contact card and the triage actions both share."""
