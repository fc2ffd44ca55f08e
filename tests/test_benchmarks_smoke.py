"""The benchmark functions run end to end at a small size (figures are not asserted)."""

from __future__ import annotations

from benchmarks import bench_app, bench_backend, bench_client
from benchmarks.common import machine, table


async def test_benchmarks_run_at_a_small_size() -> None:
    import asyncio

    results = await asyncio.to_thread(bench_backend.ingest, 200, 1)
    projected, body = await asyncio.to_thread(bench_backend.projection, 200, 1)
    results += projected
    results += bench_client.decode_and_layout(200, body, 1)
    results += await bench_app.open_and_toggle(200, 1, interact=True)
    results += await bench_app.tree_reference(200, body)
    results += await bench_app.live(200, 1)
    names = {r.name for r in results}
    assert "open run -> first full paint" in names
    assert "ingest -> repainted run view (loopback)" in names
    assert all(r.value >= 0 for r in results)
    assert "machine:" in table(results, machine())
