"""Modal dialogs: choices, dates, adding a contact, score adjustment, import and export."""
