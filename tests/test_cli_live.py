"""``--live sse|ws|poll``: on the main command and where a viewer starts (demo, open)."""

from __future__ import annotations

import pytest

from crux_tui.cli import build_parser, live_transport, main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "auto"),
        (["--live", "ws"], "ws"),
        (["--url", "http://127.0.0.1:4400", "--live", "poll"], "poll"),
        (["demo", "--live", "sse"], "sse"),
        (["--live", "ws", "demo"], "ws"),
        (["open", "runs.jsonl", "--live", "poll"], "poll"),
        (["--live", "sse", "open", "runs.jsonl", "--live", "ws"], "ws"),  # the later one wins
    ],
)
def test_live_option(argv: list[str], expected: str) -> None:
    assert live_transport(build_parser().parse_args(argv)) == expected


def test_an_unknown_transport_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--live", "carrier-pigeon"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'carrier-pigeon'" in err
