"""Funnel's front ends over the engine's workspace.

- ``app``: the Textual application (tabs, help, key map);
- ``panes``: one sub-package per tab (``contacts``, ``funnel``, ``scoring``);
- ``widgets``: reusable widgets and safe text rendering;
- ``dialogs``: modal screens (typed ``ModalScreen[T]``);
- ``cli``: the headless command line (``funnel``) that also launches the app;
- ``serve``: the SSH server (asyncssh) that runs one app session per user.

Front ends import the engine, never the other way round; the SSH server never imports panes.
"""
