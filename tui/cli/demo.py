"""What a ``funnel --demo`` session is given: a temporary config directory.

The demo's database is removed when the app closes; so is its config directory, and
with it whatever the session saved there (rules from the Scoring tab, views). A demo
therefore never changes how the user's own databases are scored, and the user's saved
rules do not colour the demo: it scores with the shipped default unless ``--rules`` or
``--config`` (or ``FUNNEL_RULES``) says otherwise. The user's key map still applies.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from funnel.engine.rules.loading import load_rules
from funnel.engine.rules.ruleset import Rules
from funnel.tui.app.settings import Settings


def demo_rules(args: argparse.Namespace, rules: Rules) -> Rules:
    """The rules the demo scores with: those asked for, else the shipped default."""
    if args.rules or args.config is not None or os.environ.get("FUNNEL_RULES"):
        return rules
    return load_rules(None)


def demo_settings(settings: Settings, demo_folder: Path | None) -> Settings:
    """``settings`` with the config directory (and Save's rules file) inside the demo's
    temporary folder; as they are when this is no demo (``demo_folder`` None)."""
    if demo_folder is None:
        return settings
    config = demo_folder / "config"
    config.mkdir(mode=0o700, exist_ok=True)
    return dataclasses.replace(settings, config_dir=str(config),
                               rules_path=str(config / "rules.yaml"), demo=True,
                               title=f"{settings.title} (demo: removed on exit)")
