"""Typed errors of the contract client."""

from __future__ import annotations


class CruxError(Exception):
    """Base class of every client-side error."""


class BackendUnreachable(CruxError):
    """No backend answers at ``url``."""

    def __init__(self, url: str, detail: str = "") -> None:
        self.url = url
        self.detail = detail
        hint = "start one with `crux-tui serve` or `crux dev`"
        super().__init__(f"no Crux devtools backend at {url} ({hint})")


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
