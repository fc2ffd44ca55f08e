"""Users remap keys by binding id from keymap.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from crux_tui.app.keymap import RENAMED_IDS, load_keymap
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


def test_a_renamed_id_still_loads_with_a_warning_naming_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    path.write_text('[keymap]\n"timeline.expand_all" = "X"\n"timeline.next_error" = "ctrl+n"\n')
    keymap, problems = load_keymap(path)
    assert keymap == {"timeline.expand-all": "X", "timeline.next-error": "ctrl+n"}
    assert len(problems) == 2 and all("\n" not in problem for problem in problems)
    assert "'timeline.next_error' is now 'timeline.next-error'" in problems[1]
    # the new id given too: it wins
    path.write_text('[keymap]\n"timeline.next_error" = "ctrl+n"\n"timeline.next-error" = "z"\n')
    assert load_keymap(path)[0] == {"timeline.next-error": "z"}


def test_binding_ids_are_scope_dot_hyphenated_words() -> None:
    import importlib
    import pkgutil
    import re

    from textual.dom import DOMNode

    import crux_tui.app

    for module in pkgutil.walk_packages(crux_tui.app.__path__, "crux_tui.app."):
        importlib.import_module(module.name)
    style = re.compile(r"[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*")
    ids = []
    stack: list[type] = [DOMNode]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("crux_tui."):
            ids += [b.id for b in cls.BINDINGS if not isinstance(b, tuple) and b.id]
    assert len(ids) > 60
    assert [i for i in ids if not style.fullmatch(i)] == []
    assert not set(RENAMED_IDS) & set(ids)


async def test_an_old_binding_id_in_keymap_toml_still_remaps_the_key(
    backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('[keymap]\n"timeline.next_error" = "ctrl+n"\n')
    monkeypatch.setenv("CRUX_TUI_KEYMAP", str(keymap))
    await post_records(backend_url, tool_error_run("run_old_ids"))
    app = make_app(backend_url)
    async with app.run_test(size=(120, 40)) as pilot:
        said = [str(n.message) for n in app._notifications]
        assert any("is now 'timeline.next-error'" in message for message in said), said
        screen = await open_run(app, pilot, "run_old_ids")
        timeline = screen.timeline
        await wait_for(pilot, lambda: timeline.error_position()[1] > 0, what="errors")
        assert timeline.error_position()[0] == 0
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: timeline.error_position()[0] == 1, what="next error")
