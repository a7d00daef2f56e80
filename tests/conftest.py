"""Shared fixtures: every test gets its own data folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path_factory, monkeypatch):
    """Point SELFCHAT_DIR at a fresh folder so no test touches ./selfchat."""
    folder = tmp_path_factory.mktemp("selfchat")
    monkeypatch.setenv("SELFCHAT_DIR", str(folder))
    return folder
