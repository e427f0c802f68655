"""``python -m funnel.tui.cli`` is ``funnel``."""

from funnel.tui.cli.main import main

raise SystemExit(main())
