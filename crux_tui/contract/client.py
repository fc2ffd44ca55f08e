"""Async client of the Crux devtools observability HTTP API (``crux-api.md``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

import httpx
import msgspec

from crux_tui.contract.delta import (
    DELTA_BASE_HEADER,
    DETAIL_TAG_HEADER,
    SINCE_PARAM,
    DetailAnswer,
    RunDetailDelta,
)
from crux_tui.contract.errors import (
    BackendUnreachable,
    HttpError,
    NotCruxBackend,
    NotFound,
    ProtocolError,
    RequestTimeout,
    Unauthorized,
)
from crux_tui.contract.models import (
    HEAD_LENGTH_HEADER,
    DeleteResult,
    Graph,
    IngestDisposition,
    IngestResponse,
    RunDetail,
    RunDetailHead,
    RunsDelta,
    RunsPage,
    RunSummary,
    SpanEventSummary,
    items,
)
from crux_tui.contract.ports import Progress
from crux_tui.contract.tolerant import decode_tolerant
from crux_tui.contract.vocabulary import SCHEMA_VERSION
from crux_tui.perf import no_gc

T = TypeVar("T")


API = "/api/observability"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
DETAIL_TIMEOUT = httpx.Timeout(10.0, connect=3.0, read=120.0)
#: Bodies from this size on make enough objects to skip the young GC generations.
BULK_BYTES = 4 * 1024 * 1024
#: RunDetail bodies above this size are decoded off the event loop.
OFF_LOOP_DECODE_BYTES = 256 * 1024


def _snippet(content: bytes, size: int = 200) -> str:
    return content[:size].decode("utf-8", "replace")


class CruxClient:
    """Typed, async access to one backend. Use as ``async with CruxClient(url) as c``."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        #: RunDetail of a big run takes the backend seconds to project before the first
        #: byte: it gets a longer wait unless the caller chose a timeout.
        self._detail_timeout = DETAIL_TIMEOUT if timeout is None else httpx.USE_CLIENT_DEFAULT
        self._http = httpx.AsyncClient(
            base_url=self.url,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            transport=transport,
        )

    async def __aenter__(self) -> CruxClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self._http.aclose()

    def params(self, **params: Any) -> dict[str, Any]:
        """Query parameters with ``None`` dropped and the token added."""
        out = {k: v for k, v in params.items() if v is not None and v != ""}
        if self.token:
            out["t"] = self.token
        return out

    async def _request(
        self,
        method: str,
        path: str,
        *,
        progress: Progress | None = None,
        head: Callable[[bytes], None] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        url = self.url + path
        try:
            if progress is None and head is None:
                response = await self._http.request(method, path, **kwargs)
            else:
                response = await self._download(method, path, progress, head, **kwargs)
        except httpx.TimeoutException as exc:
            raise RequestTimeout(url) from exc
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.NetworkError) as exc:
            raise BackendUnreachable(self.url, str(exc)) from exc
        except httpx.HTTPError as exc:
            raise BackendUnreachable(self.url, str(exc)) from exc
        if response.status_code == 404:
            raise NotFound(url, response.text)
        if response.status_code == 401:
            raise Unauthorized(url, response.text)
        if response.status_code >= 400:
            raise HttpError(response.status_code, response.text, url)
        return response

    async def _download(
        self,
        method: str,
        path: str,
        progress: Progress | None,
        head: Callable[[bytes], None] | None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Like ``request`` but reads the body chunk by chunk, reporting ``progress``.

        ``head`` gets the body's first bytes as soon as they are in, when a successful
        response says how many form its head (:data:`HEAD_LENGTH_HEADER`).
        """
        report = progress or _no_progress
        request = self._http.build_request(method, path, **kwargs)
        streamed = await self._http.send(request, stream=True)
        try:
            total = _plain_number(streamed.headers.get("content-length", ""))
            head_length = _head_length(streamed, total) if head is not None else None
            chunks: list[bytes] = []
            received = 0
            report(0, total)
            async for chunk in streamed.aiter_bytes():
                chunks.append(chunk)
                received += len(chunk)
                if head is not None and head_length is not None and received >= head_length:
                    head(b"".join(chunks)[:head_length])
                    head = None
                if received != total:
                    report(received, total)
            report(received, received)
        finally:
            await streamed.aclose()
        # The chunks are already decoded: the copy must not claim a content encoding.
        # raw bytes: a header value that is not ASCII must not break the copy
        headers = [(k, v) for k, v in streamed.headers.raw if k.lower() != b"content-encoding"]
        return httpx.Response(
            streamed.status_code, headers=headers, content=b"".join(chunks), request=request
        )

    @staticmethod
    def _decode_checked(response: httpx.Response, kind: type[T]) -> tuple[T, list[str]]:
        """Decode tolerantly: ``(value, paths that could not be parsed)``."""
        try:
            return decode_body(response.content, kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ProtocolError(
                f"unexpected response from {response.url.path}: {exc}", _snippet(response.content)
            ) from exc

    @classmethod
    def _decode(cls, response: httpx.Response, kind: type[T]) -> T:
        return cls._decode_checked(response, kind)[0]

    async def _get(self, path: str, kind: type[T], **params: Any) -> T:
        response = await self._request("GET", path, params=self.params(**params))
        return self._decode(response, kind)

    async def runs_page(
        self,
        limit: int | None = None,
        cursor: str | None = None,
        status: str | Sequence[str] | None = None,
        session_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> RunsPage:
        """``GET /runs/page``: one page of runs, newest first."""
        if status is not None and not isinstance(status, str):
            status = ",".join(status)
        path = f"{API}/runs/page"
        params = self.params(
            limit=limit,
            cursor=cursor,
            status=status,
            sessionId=session_id,
            since=since,
            until=until,
        )
        try:
            response = await self._request("GET", path, params=params)
        except NotFound as exc:  # every Crux backend serves this route
            raise NotCruxBackend("GET", self.url + path, 404) from exc
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type in ("text/html", "application/xhtml+xml"):  # a web page
            raise NotCruxBackend("GET", self.url + path, response.status_code, content_type)
        return self._decode(response, RunsPage)

    async def iter_runs(
        self,
        page_size: int | None = None,
        status: str | Sequence[str] | None = None,
        session_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> AsyncIterator[RunSummary]:
        """Every matching run, following ``nextCursor``."""
        cursor: str | None = None
        while True:
            page = await self.runs_page(page_size, cursor, status, session_id, since, until)
            for row in items(page.rows):
                yield row
            if not page.nextCursor:
                return
            cursor = page.nextCursor

    async def run_detail(self, run_id: str) -> RunDetail:
        """``GET /runs/{runId}``: a run id or an operation id (a v5 backend answers with the
        whole operation; a v2 one also takes a trace id)."""
        return (await self.run_detail_checked(run_id))[0]

    async def run_detail_checked(
        self,
        run_id: str,
        progress: Progress | None = None,
        on_head: Callable[[RunDetailHead], None] | None = None,
    ) -> tuple[RunDetail, list[str]]:
        """``GET /runs/{runId}`` plus the paths of fields that could not be parsed.

        A body that does not match the contract is decoded field by field
        (:func:`~crux_tui.contract.tolerant.decode_tolerant`): what fits is kept.
        ``progress`` is told how much of the body has arrived (big runs take seconds).
        ``on_head`` gets the run and its rows before the rest of a big body has arrived,
        when the backend says where they end (the embedded one does); it is called, if at
        all, before this returns. When this raises, a head still being decoded is dropped.
        """
        answer = await self.run_detail_answer(run_id, progress=progress, on_head=on_head)
        assert answer.detail is not None  # asked without ``since``: never a delta
        return answer.detail, answer.problems

    async def run_detail_answer(
        self,
        run_id: str,
        since: str = "",
        progress: Progress | None = None,
        on_head: Callable[[RunDetailHead], None] | None = None,
    ) -> DetailAnswer:
        """``GET /runs/{runId}`` as :meth:`run_detail_checked`, with the RunDetail's tag;
        given ``since`` (a tag this backend sent), the answer may be a delta against it."""
        delivering: list[asyncio.Task[None]] = []

        def got_head(raw: bytes) -> None:
            assert on_head is not None
            delivering.append(asyncio.create_task(_deliver_head(raw, on_head)))

        try:
            response = await self._request(
                "GET",
                f"{API}/runs/{_quote(run_id)}",
                params=self.params(**{SINCE_PARAM: since or None}),
                timeout=self._detail_timeout,
                progress=progress,
                head=got_head if on_head is not None else None,
            )
            tag = response.headers.get(DETAIL_TAG_HEADER, "")
            if since and response.headers.get(DELTA_BASE_HEADER) == since:
                delta, problems = await self._decode_big(response, RunDetailDelta)
                answer = DetailAnswer(delta=delta, problems=problems, tag=tag)
            else:
                detail, problems = await self._decode_big(response, RunDetail)
                answer = DetailAnswer(detail=detail, problems=problems, tag=tag)
        except BaseException:
            # a failed (or abandoned) load must not show its head after the error
            for task in delivering:
                task.cancel()
            await asyncio.gather(*delivering, return_exceptions=True)
            raise
        for task in delivering:
            await task
        return answer

    async def _decode_big(self, response: httpx.Response, kind: type[T]) -> tuple[T, list[str]]:
        """:meth:`_decode_checked`, in a thread for a big body (the caller's event loop, the
        UI, keeps going)."""
        if len(response.content) > OFF_LOOP_DECODE_BYTES:
            return await asyncio.to_thread(self._decode_checked, response, kind)
        return self._decode_checked(response, kind)

    async def delete_run(self, run_id: str) -> DeleteResult:
        """``DELETE /runs/{runId}``: remove the run's operation with all its member runs.

        Raises :class:`NotFound` when the backend knows no such run (or has no such route).
        """
        response = await self._request(
            "DELETE", f"{API}/runs/{_quote(run_id)}", params=self.params()
        )
        return self._decode(response, DeleteResult)

    async def graph(self, run_id: str) -> Graph:
        """``GET /runs/{runId}/graph``: the canonical graph with raw records."""
        return await self._get(f"{API}/runs/{_quote(run_id)}/graph", Graph)

    async def span_events(
        self,
        run_id: str,
        span_id: str,
        name: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[SpanEventSummary]:
        """``GET /runs/{runId}/spans/{spanId}/events`` (``null`` reads as empty)."""
        result = await self._get(
            f"{API}/runs/{_quote(run_id)}/spans/{_quote(span_id)}/events",
            cast("type[list[SpanEventSummary] | None]", list[SpanEventSummary] | None),
            name=name,
            after=after,
            limit=limit,
        )
        return items(result)

    async def runs_delta(self, since: int) -> RunsDelta:
        """``GET /runs/delta?since=``."""
        return await self._get(f"{API}/runs/delta", RunsDelta, since=since)

    async def post_records(
        self,
        records: Iterable[dict[str, Any]],
        source_health: dict[str, Any] | None = None,
        *,
        schema_version: int | None = None,
    ) -> list[IngestDisposition]:
        """``POST /records`` as one batch; returns the dispositions (202 or 422).

        The batch's ``schemaVersion`` is ``schema_version``, else the first record's (a
        batch holds records of one version), else the current one.
        """
        listed = list(records)
        if schema_version is None:
            first = (
                listed[0].get("schemaVersion") if listed and isinstance(listed[0], dict) else None
            )
            schema_version = first if type(first) is int else SCHEMA_VERSION
        body: dict[str, Any] = {"schemaVersion": schema_version, "records": listed}
        if source_health is not None:
            body["sourceHealth"] = source_health
        url = self.url + f"{API}/records"
        try:
            response = await self._http.post(
                f"{API}/records",
                content=msgspec.json.encode(body),
                headers={"Content-Type": "application/json"},
                params=self.params(),
            )
        except httpx.TimeoutException as exc:
            raise RequestTimeout(url) from exc
        except httpx.HTTPError as exc:
            raise BackendUnreachable(self.url, str(exc)) from exc
        if response.status_code in (202, 422):
            return items(self._decode(response, IngestResponse).dispositions)
        if response.status_code == 404:
            raise NotFound(url, response.text)
        if response.status_code == 401:
            raise Unauthorized(url, response.text)
        raise HttpError(response.status_code, response.text, url)


def _no_progress(received: int, total: int | None) -> None:
    pass


#: Heads smaller than this are not worth a separate decode: the whole body follows at once.
MIN_HEAD_BODY_BYTES = 1024 * 1024


def _head_length(response: httpx.Response, length: int | None) -> int | None:
    """Where the head of a successful RunDetail body (of ``length`` bytes, when known)
    ends, if the backend said so."""
    if response.status_code != 200:
        return None
    head = _plain_number(response.headers.get(HEAD_LENGTH_HEADER, ""))
    if head is None:
        return None  # absent, or not a plain number: no early head, the body still loads
    if length is not None and (length < MIN_HEAD_BODY_BYTES or head > length):
        return None
    return head


def _plain_number(value: str) -> int | None:
    """A header value made of ASCII digits only (and not absurdly long), else ``None``."""
    if value.isascii() and value.isdigit() and len(value) <= 15:
        return int(value)
    return None


def decode_body(content: bytes, kind: type[T]) -> tuple[T, list[str]]:
    """A response body decoded tolerantly, as the client does it: ``(value, paths that
    could not be parsed)``; a big body is a bulk pause (see ``perf``)."""
    with no_gc(bulk=len(content) >= BULK_BYTES):
        return decode_tolerant(content, kind)


def decode_head(raw: bytes) -> RunDetailHead | None:
    """The head of a RunDetail body (its first bytes, see :data:`HEAD_LENGTH_HEADER`)."""
    try:
        with no_gc(bulk=len(raw) >= BULK_BYTES):
            return msgspec.json.decode(raw + b"}", type=RunDetailHead)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None  # not worth a word: the whole body follows and is decoded tolerantly


async def _deliver_head(raw: bytes, on_head: Callable[[RunDetailHead], None]) -> None:
    head = await asyncio.to_thread(decode_head, raw)
    if head is not None:
        on_head(head)


def _quote(segment: str) -> str:
    from urllib.parse import quote

    return quote(segment, safe="")
