"""What the app is told from outside (the command line builds it); widgets read it
through the app's services, never from the environment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    poll_seconds: float = 0.5  # how often other sessions' commits are looked for
    title: str = "Funnel"
    rules_path: str | None = None  # where Save on the Scoring tab writes
    keymap: dict[str, str] | None = None
    # A served session's files: import and export only by file name inside this folder
    # (``funnel serve --files DIR`` gives each user ``DIR/USER``); None: anywhere.
    files_folder: str | None = None
    files_off: bool = False  # served without --files: no import or export at all
    # The user's config directory (where rules.yaml and keys.yaml are read): saved views,
    # columns and when they last looked are kept there (desk.yaml); None: kept nowhere.
    config_dir: str | None = None
    # A --demo session: its config directory (rules saved there included) is temporary,
    # removed with the demo database when the app closes.
    demo: bool = False
