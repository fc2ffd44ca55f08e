"""Client figures: RunDetail decode (whole, and the head a big run paints first), the
preview built from the head, and visible-row layout.

Decoding runs as in the app: with the collector paused, and what it made promoted past
the young generations (an ``IdleCollector`` is running, as it is in the app).
"""

from __future__ import annotations

from benchmarks.common import Result, median_time
from crux_tui.backend.details import encode_run_detail
from crux_tui.contract.client import decode_body, decode_head
from crux_tui.contract.models import RunDetail
from crux_tui.perf import IdleCollector
from crux_tui.timeline import TimelineOptions, build_model, layout
from crux_tui.timeline.preview import detail_from_head


def _decode(body: bytes) -> RunDetail:
    return decode_body(body, RunDetail)[0]


def decode_and_layout(size: int, body: bytes, repeat: int) -> list[Result]:
    collector = IdleCollector()
    collector.start(0.0)
    try:
        decode_ms, _ = median_time(lambda: _decode(body), repeat)
        detail = _decode(body)
        data, head_length = encode_run_detail(detail)
        head_bytes = bytes(data[:head_length])
        del data
        head_ms, _ = median_time(lambda: decode_head(head_bytes), repeat)
        head = decode_head(head_bytes)
        assert head is not None
        preview_ms, _ = median_time(lambda: build_model(detail_from_head(head)), repeat)
        model_ms, _ = median_time(lambda: build_model(detail), repeat)
        model = build_model(detail)
        options = TimelineOptions()
        layout_ms, _ = median_time(lambda: len(layout(model, options)), repeat)
    finally:
        collector.stop()
    mb = len(body) / 1e6
    return [
        Result("client", f"RunDetail decode ({mb:.1f} MB)", size, decode_ms, "ms"),
        Result(
            "client", f"head decode: run + rows ({head_length / 1e6:.1f} MB)", size, head_ms, "ms"
        ),
        Result("client", "preview model from the rows", size, preview_ms, "ms"),
        Result("client", "timeline model (build_model)", size, model_ms, "ms"),
        Result("client", "visible-row layout (default toggles)", size, layout_ms, "ms"),
    ]
