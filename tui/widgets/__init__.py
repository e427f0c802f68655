"""Widgets shared by the panes, and the one place contact text becomes screen text."""
