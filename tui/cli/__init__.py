"""The headless command line: ``funnel`` and its subcommands (the contract scripts rely on)."""
