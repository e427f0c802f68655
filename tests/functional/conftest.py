"""Fixtures for Pilot tests: a real database on disk, generated once and copied."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace
from funnel.tui.app.app import FunnelApp, Settings

# Tests see the world on one fixed day, so ages, rotting and overdue never drift.
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    path = folder / "funnel.json"
    with Workspace.open(path, None, clock=fixed_clock, user="generator") as workspace:
        workspace.add_many(generate_contacts(300, 7, NOW.replace(hour=0)), by="generator")
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    for file in template_db.parent.iterdir():
        if file.name.startswith(template_db.name) and not file.name.endswith(".lock"):
            shutil.copy(file, tmp_path / file.name)
    return tmp_path / template_db.name


@pytest.fixture
def workspace(db_path: Path):
    with Workspace.open(db_path, None, clock=fixed_clock, user="tester") as opened:
        yield opened


@pytest.fixture
def app(workspace: Workspace, tmp_path: Path) -> FunnelApp:
    return FunnelApp(workspace, Settings(poll_seconds=0,
                                         rules_path=str(tmp_path / "config" / "rules.yaml")))


