"""Client figures: RunDetail decode and visible-row layout."""

from __future__ import annotations

import msgspec

from benchmarks.common import Result, median_time
from crux_tui.contract.models import RunDetail
from crux_tui.timeline import TimelineOptions, build_model, layout


def decode_and_layout(size: int, body: bytes, repeat: int) -> list[Result]:
    decode_ms, _ = median_time(lambda: msgspec.json.decode(body, type=RunDetail), repeat)
    detail = msgspec.json.decode(body, type=RunDetail)
    model_ms, _ = median_time(lambda: build_model(detail), repeat)
    model = build_model(detail)
    options = TimelineOptions()
    layout_ms, _ = median_time(lambda: len(layout(model, options)), repeat)
    return [
        Result("client", f"RunDetail decode ({len(body) / 1e6:.1f} MB)", size, decode_ms, "ms"),
        Result("client", "timeline model (build_model)", size, model_ms, "ms"),
        Result("client", "visible-row layout (default toggles)", size, layout_ms, "ms"),
    ]
