"""Users remap keys by binding id from keymap.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from crux_tui.app.keymap import load_keymap
from crux_tui.app.main import make_app

from .helpers import post_records, wait_for
from .test_run_screen import open_run, tool_error_run


def test_load_keymap_reads_ids_and_reports_problems(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    path.write_text('[keymap]\n"timeline.infrastructure" = "I"\n"run.export" = 3\n')
    keymap, problems = load_keymap(path)
    assert keymap == {"timeline.infrastructure": "I"}
    assert len(problems) == 1 and "run.export" in problems[0]
    assert load_keymap(tmp_path / "missing.toml") == ({}, [])
    path.write_text("not = [toml")
    assert load_keymap(path)[1]


async def test_remapped_toggle_key(
    backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('[keymap]\n"timeline.infrastructure" = "I"\n')
    monkeypatch.setenv("CRUX_TUI_KEYMAP", str(keymap))
    await post_records(backend_url, tool_error_run("run_keys"))
    app = make_app(backend_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_run(app, pilot, "run_keys")
        timeline = screen.timeline
        await pilot.press("i")  # no longer bound
        await pilot.pause()
        assert not timeline.options.show_infrastructure
        await pilot.press("I")
        await wait_for(pilot, lambda: timeline.options.show_infrastructure, what="remapped key")
