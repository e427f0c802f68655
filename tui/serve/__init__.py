"""``funnel serve``: an SSH server (asyncssh) that runs one app process per session.

Imports the engine and the command line's entry point, never the panes.
"""
