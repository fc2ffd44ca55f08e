"""Async client of the Crux devtools observability HTTP API (``crux-api.md``)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
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
#: A download reports its progress each time this much more has arrived (and at its end).
PROGRESS_STEP_BYTES = 1024 * 1024


class Abandoned(Exception):
    """A download stopped because nobody waits for it any more (never seen by a caller)."""


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
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        #: RunDetail of a big run takes the backend seconds to project before the first
        #: byte: it gets a longer wait unless the caller chose a timeout.
        self._detail_timeout = DETAIL_TIMEOUT if timeout is None else httpx.USE_CLIENT_DEFAULT
        self._http = httpx.AsyncClient(
            base_url=self.url, timeout=DEFAULT_TIMEOUT if timeout is None else timeout
        )
        #: made when a first big body is downloaded (``_sync_http``)
        self._sync: httpx.Client | None = None
        self._sync_lock = threading.Lock()

    async def __aenter__(self) -> CruxClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying connection pools."""
        await self._http.aclose()
        with self._sync_lock:
            sync, self._sync = self._sync, None
        if sync is not None:
            sync.close()

    def params(self, **params: Any) -> dict[str, Any]:
        """Query parameters with ``None`` dropped and the token added."""
        out = {k: v for k, v in params.items() if v is not None and v != ""}
        if self.token:
            out["t"] = self.token
        return out

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.url + path
        with _mapped_errors(self.url, url):
            response = await self._http.request(method, path, **kwargs)
        return _checked(response, url)

    def _sync_http(self) -> httpx.Client:
        """The blocking twin of ``_http`` the downloads of big bodies use, in a thread."""
        with self._sync_lock:
            if self._sync is None:
                self._sync = httpx.Client(base_url=self.url, timeout=self._http.timeout)
            return self._sync

    def _download(
        self,
        method: str,
        path: str,
        progress: Progress,
        head: Callable[[bytes], None] | None,
        stop: threading.Event,
        **kwargs: Any,
    ) -> httpx.Response:
        """Like ``request``, blocking (call it in a thread), reading the body chunk by chunk
        and reporting ``progress`` (every :data:`PROGRESS_STEP_BYTES`, and the end); stops
        early, raising :class:`Abandoned`, once ``stop`` is set.

        ``head`` gets the body's first bytes as soon as they are in, when a successful
        response says how many form its head (:data:`HEAD_LENGTH_HEADER`).
        """
        url = self.url + path
        with _mapped_errors(self.url, url):
            http = self._sync_http()
            request = http.build_request(method, path, **kwargs)
            streamed = http.send(request, stream=True)
            try:
                total = _plain_number(streamed.headers.get("content-length", ""))
                head_length = _head_length(streamed, total) if head is not None else None
                chunks: list[bytes] = []
                received = reported = 0
                progress(0, total)
                for chunk in streamed.iter_bytes():
                    if stop.is_set():
                        raise Abandoned(url)
                    chunks.append(chunk)
                    received += len(chunk)
                    if head is not None and head_length is not None and received >= head_length:
                        head(b"".join(chunks)[:head_length])
                        head = None
                    if received != total and received - reported >= PROGRESS_STEP_BYTES:
                        reported = received
                        progress(received, total)
                progress(received, received)
            finally:
                streamed.close()
        # The chunks are already decoded: the copy must not claim a content encoding.
        # raw bytes: a header value that is not ASCII must not break the copy
        headers = [(k, v) for k, v in streamed.headers.raw if k.lower() != b"content-encoding"]
        response = httpx.Response(
            streamed.status_code, headers=headers, content=b"".join(chunks), request=request
        )
        return _checked(response, url)

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
        before_decode: Callable[[], Awaitable[None]] | None = None,
    ) -> DetailAnswer:
        """``GET /runs/{runId}`` as :meth:`run_detail_checked`, with the RunDetail's tag;
        given ``since`` (a tag this backend sent), the answer may be a delta against it.

        With ``progress`` or ``on_head`` (a first load, which may be big) the body is
        received in a thread, at the pace of the network rather than of the event loop
        (which mounts and paints the screen meanwhile), and its head decoded there.
        ``before_decode`` is awaited once the whole body is in, before it is decoded (in a
        thread: the decoder holds the interpreter): the caller paints the head first."""
        path = f"{API}/runs/{_quote(run_id)}"
        params = self.params(**{SINCE_PARAM: since or None})
        if progress is None and on_head is None:
            response = await self._request("GET", path, params=params, timeout=self._detail_timeout)
            return await self._detail_answer(response, since)
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        report = progress or _no_progress

        def reported(received: int, total: int | None) -> None:  # in the download thread
            if not stop.is_set():
                loop.call_soon_threadsafe(report, received, total)

        def deliver(head: RunDetailHead) -> None:
            if not stop.is_set():  # a failed (or abandoned) load shows no head after it
                assert on_head is not None
                on_head(head)

        def got_head(raw: bytes) -> None:  # in the download thread
            head = decode_head(raw)
            if head is not None:
                loop.call_soon_threadsafe(deliver, head)

        try:
            response = await asyncio.to_thread(
                self._download,
                "GET",
                path,
                reported,
                got_head if on_head is not None else None,
                stop,
                params=params,
                timeout=self._detail_timeout,
            )
            if before_decode is not None:
                await before_decode()
            return await self._detail_answer(response, since)
        except BaseException:
            stop.set()  # the thread stops at its next chunk; heads not yet shown are dropped
            raise

    async def _detail_answer(self, response: httpx.Response, since: str) -> DetailAnswer:
        """The answer of ``response``, decoded in a thread when it is big."""
        if len(response.content) > OFF_LOOP_DECODE_BYTES:
            return await asyncio.to_thread(self._decode_answer, response, since)
        return self._decode_answer(response, since)

    def _decode_answer(self, response: httpx.Response, since: str) -> DetailAnswer:
        tag = response.headers.get(DETAIL_TAG_HEADER, "")
        if since and response.headers.get(DELTA_BASE_HEADER) == since:
            delta, problems = self._decode_checked(response, RunDetailDelta)
            return DetailAnswer(delta=delta, problems=problems, tag=tag)
        detail, problems = self._decode_checked(response, RunDetail)
        return DetailAnswer(detail=detail, problems=problems, tag=tag)

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


@contextlib.contextmanager
def _mapped_errors(base: str, url: str) -> Iterator[None]:
    """httpx's exceptions as the contract's errors."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise RequestTimeout(url) from exc
    except httpx.HTTPError as exc:  # connection refused or dropped, protocol errors, …
        raise BackendUnreachable(base, str(exc)) from exc


def _checked(response: httpx.Response, url: str) -> httpx.Response:
    """``response``, or the error its status says."""
    if response.status_code == 404:
        raise NotFound(url, response.text)
    if response.status_code == 401:
        raise Unauthorized(url, response.text)
    if response.status_code >= 400:
        raise HttpError(response.status_code, response.text, url)
    return response


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


def _quote(segment: str) -> str:
    from urllib.parse import quote

    return quote(segment, safe="")
