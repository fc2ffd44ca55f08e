"""Typed errors of the contract client, and the one line the viewer says about each."""

from __future__ import annotations

from crux_tui.sanitize import clean

#: What to do when no backend answers (said with every "cannot reach").
START_HINT = "start one with `crux-tui serve` or `crux dev`"


class CruxError(Exception):
    """Base class of every client-side error."""


class BackendUnreachable(CruxError):
    """No backend answers at ``url``."""

    def __init__(self, url: str, detail: str = "") -> None:
        self.url = url
        self.detail = detail
        super().__init__(f"no Crux devtools backend at {url} ({START_HINT})")


class RequestTimeout(CruxError):
    """The backend did not answer in time."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"request to {url} timed out")


class HttpError(CruxError):
    """An unexpected HTTP status."""

    def __init__(self, status: int, body: str = "", url: str = "") -> None:
        self.status = status
        self.body = body
        self.url = url
        text = f": {body.strip()[:120]}" if body.strip() else ""
        super().__init__(f"HTTP {status} from {url}{text}")


class NotFound(HttpError):
    """404 (unknown run or route)."""

    def __init__(self, url: str = "", body: str = "not found") -> None:
        super().__init__(404, body, url)


class Unauthorized(HttpError):
    """401: the backend needs a token (``--token``)."""

    def __init__(self, url: str = "", body: str = "unauthorized") -> None:
        super().__init__(401, body, url)


class ProtocolError(CruxError):
    """The body does not match the contract; ``snippet`` holds its start."""

    def __init__(self, message: str, snippet: str = "") -> None:
        self.snippet = snippet
        super().__init__(f"{message}: {snippet!r}" if snippet else message)


class NotCruxBackend(CruxError):
    """Something answers at the URL, but not the Crux devtools API (a 404 on a route every
    Crux backend serves, or a page that is not JSON)."""

    def __init__(self, method: str, url: str, status: int, content_type: str = "") -> None:
        self.url = url
        self.status = status
        answer = f"{status} with {content_type}" if content_type else str(status)
        super().__init__(f"this is not a Crux devtools backend ({method} {url} answered {answer})")


def describe_error(error: BaseException | None, url: str = "") -> str:
    """A one-line, terminal-safe message for a client or worker error."""
    if error is None:
        return "unknown error"
    if isinstance(error, BackendUnreachable):
        return f"cannot reach {clean(url) or 'the backend'} — {START_HINT}"
    if isinstance(error, NotFound):
        return f"not found: {clean(str(error))}" if str(error) else "not found"
    if isinstance(error, RequestTimeout):
        return f"request timed out: {clean(str(error))}"
    if isinstance(error, ProtocolError):
        return f"unexpected response from backend: {clean(str(error))}"
    if isinstance(error, CruxError):
        return clean(str(error)) or type(error).__name__
    text = clean(str(error))
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
