"""Where each binding is active: the places of the app and the bindings in force there.

Kept apart from ``keymap`` (which only checks a key map against these places) since
it imports every screen and pane that declares keys, and the help screen, one of
them, uses ``keymap`` itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from textual.binding import Binding

from funnel.engine.errors import FunnelError
from funnel.engine.inputs import RULES_LIMIT, read_input
from funnel.engine.yaml_lines import load_yaml
from funnel.tui.app.app import FunnelApp
from funnel.tui.app.help_screen import HelpScreen
from funnel.tui.app.keymap import check_keymap, class_bindings
from funnel.tui.dialogs import columns, conflict, export_screen, log_work, prompts, transfer, views
from funnel.tui.panes.contacts.card import ContactScreen
from funnel.tui.panes.contacts.pane import ContactsPane
from funnel.tui.panes.funnel.pane import FunnelPane
from funnel.tui.panes.scoring.pane import ScoringPane
from funnel.tui.widgets.contact_table import ContactTable


def binding_scopes() -> dict[str, list[Binding]]:
    """Each place of the app, with every binding (that has an id) active there."""
    everywhere = class_bindings(FunnelApp)
    places = {
        "the Contacts tab": class_bindings(ContactsPane, ContactTable),
        "the contact card": class_bindings(ContactScreen),
        "the Funnel tab": class_bindings(FunnelPane),
        "the Scoring tab": class_bindings(ScoringPane),
        "the help": class_bindings(HelpScreen),
        "a dialog": class_bindings(prompts.TextDialog),
        "the import dialog": class_bindings(transfer.ImportScreen),
        "the export dialog": class_bindings(export_screen.ExportScreen),
        "the conflict dialog": class_bindings(conflict.ConflictDialog),
        "the view picker": class_bindings(views.ViewsDialog),
        "the columns dialog": class_bindings(columns.ColumnsDialog),
        "the log work dialog": class_bindings(log_work.LogWorkDialog),
    }
    return {place: everywhere + bindings for place, bindings in places.items()}


def check_user_keymap(keymap: Mapping[str, str], source: str,
                      lines: Mapping[str, int] | None = None) -> None:
    """Refuse (FunnelError, naming ``source`` and the line) an unknown id or a clash."""
    check_keymap(keymap, source, binding_scopes(), lines)


def read_keymap(path: Path) -> dict[str, str]:
    """The key map in ``path`` (none: empty), refused (FunnelError) if it is not a
    mapping of ids to keys, names an unknown id or gives a key twice."""
    if not path.is_file():
        return {}
    # The one bounded YAML loader (size, depth, aliases); keys and `off`/`yes` stay text.
    data = load_yaml(read_input(path, RULES_LIMIT, "key map"), str(path), text_keys=True,
                     booleans=False) or {}
    if not isinstance(data, dict) or not all(isinstance(key, str) and isinstance(value, str)
                                             for key, value in data.items()):
        raise FunnelError(f"{path}: write one 'binding.id: keys' pair per line, "
                          "e.g. 'contacts.disqualify: x'")
    check_user_keymap(data, str(path), getattr(data, "lines", None))
    return dict(data)
