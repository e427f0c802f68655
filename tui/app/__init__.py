"""The Textual application: the tabs, the key map, help, and the services widgets reach."""
