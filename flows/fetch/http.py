"""The single httpx client factory and the guarded fetch every request goes through.

Rules from ../shared/RELIABILITY.md: http/https only; the address is checked when the socket
connects, on every hop, so DNS rebinding cannot slip past; at most 5 redirects followed by hand;
a wall-clock deadline per fetch; a cap on decompressed bytes; only gzip advertised.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from claimwatch.flows.fetch import guard
from claimwatch.flows.fetch.guard import BlockedAddressError, GuardedTransport
from claimwatch.flows.fetch.urls import credentials, without_userinfo
from claimwatch.flows.seeds import check_url
from claimwatch.flows.settings import USER_AGENT, FetchLimits

REDIRECTS = {301, 302, 303, 307, 308}
KEPT_HEADERS = ("content-type", "etag", "last-modified", "retry-after", "content-encoding")
Client = httpx.Client  # the type stages hold; only this module and guard.py import httpx


def make_client(limits: FetchLimits, allow_private: bool) -> httpx.Client:
    """The one client factory: no redirects followed by httpx, no proxies from the env."""
    timeout = httpx.Timeout(
        connect=limits.connect_timeout_s,
        read=limits.read_timeout_s,
        write=limits.read_timeout_s,
        pool=limits.connect_timeout_s,
    )
    return httpx.Client(
        transport=GuardedTransport(allow_private, max_connections=limits.fetch_workers * 2),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"},
    )


def healthy(client: httpx.Client, url: str) -> bool:
    """True when a GET of `url` answers 200 (a local server's health endpoint, say)."""
    try:
        return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of one guarded GET; expected failures are data, not exceptions."""

    url: str
    status: int | None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    soft: bool = False  # soft errors (404, 429, 5xx, timeouts) weigh less in source health
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200


class _Abort(Exception):
    def __init__(self, reason: str, soft: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.soft = soft


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped at 24 h."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), 86400.0)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when - (now or time.time())), 86400.0)


def _decoder(encoding: str) -> zlib._Decompress | None:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise _Abort(f"unsupported content-encoding {encoding!r}")


def _read_body(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    """Read and decompress by hand so the cap counts decompressed bytes (gzip bombs)."""
    decoder = _decoder(response.headers.get("content-encoding", "").strip().lower())
    chunks: list[bytes] = []
    size = 0
    for raw in response.iter_raw(65536):
        if time.monotonic() > deadline:
            raise _Abort("deadline exceeded while reading the body", soft=True)
        data = raw
        while decoder is not None:
            data = decoder.decompress(raw, max_bytes - size + 1)
            raw = decoder.unconsumed_tail
            size += len(data)
            chunks.append(data)
            if size > max_bytes:
                raise _Abort(f"body larger than {max_bytes} bytes (decompressed)")
            if not raw:
                break
        if decoder is None:
            size += len(data)
            chunks.append(data)
            if size > max_bytes:
                raise _Abort(f"body larger than {max_bytes} bytes")
    return b"".join(chunks)


def _request_timeout(client: httpx.Client, deadline: float) -> httpx.Timeout:
    remaining = max(0.01, deadline - time.monotonic())
    base = client.timeout
    return httpx.Timeout(
        connect=min(base.connect or remaining, remaining),
        read=min(base.read or remaining, remaining),
        write=min(base.write or remaining, remaining),
        pool=min(base.pool or remaining, remaining),
    )


def _kept(headers: httpx.Headers) -> dict[str, str]:
    return {k: headers[k] for k in KEPT_HEADERS if k in headers}


def _one_hop(
    client: httpx.Client, url: str, headers: Mapping[str, str], max_bytes: int, deadline: float,
    login: tuple[str, str] | None = None,
) -> tuple[httpx.Response, bytes]:
    request = client.build_request("GET", url, headers=dict(headers))
    request.extensions["timeout"] = _request_timeout(client, deadline).as_dict()
    response = client.send(request, stream=True, auth=httpx.BasicAuth(*login) if login else None)
    try:
        declared = response.headers.get("content-length", "")
        encoded = response.headers.get("content-encoding", "identity").strip().lower()
        if response.status_code == 200 and declared.isdigit() and encoded == "identity" \
                and int(declared) > max_bytes:
            raise _Abort(f"body larger than {max_bytes} bytes (Content-Length {declared})")
        if response.status_code == 200:
            return response, _read_body(response, max_bytes, deadline)
        return response, b""
    finally:
        response.close()


def fetch(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    deadline_s: float,
    headers: Mapping[str, str] | None = None,
    max_redirects: int = 5,
) -> Fetched:
    """GET a URL under every guard; never raises for network or HTTP trouble."""
    until = time.monotonic() + deadline_s
    with guard.deadline(until):
        return _fetch_hops(client, url, headers or {}, max_bytes, until, max_redirects)


def _fetch_hops(client: httpx.Client, url: str, headers: Mapping[str, str], max_bytes: int,
                deadline: float, max_redirects: int) -> Fetched:
    seen: set[str] = set()
    # User-info (https://user:secret@host/feed.xml) becomes basic auth: the URL requested,
    # logged by httpx and kept in Fetched has none, and the login goes to that origin only.
    current, login = credentials(url)
    origin = _origin(current)
    try:
        for _hop in range(max_redirects + 1):
            problem = check_url(current)
            if problem:
                return Fetched(current, None, error=f"refused: {problem}")
            if current in seen:
                return Fetched(current, None, error="redirect loop")
            seen.add(current)
            response, body = _one_hop(client, current, headers, max_bytes, deadline,
                                      login if _origin(current) == origin else None)
            status = response.status_code
            if status in REDIRECTS and "location" in response.headers:
                current = without_userinfo(urljoin(current, response.headers["location"]))
                continue
            return _outcome(current, status, body, response.headers)
        return Fetched(current, None, error=f"more than {max_redirects} redirects")
    except _Abort as exc:
        return Fetched(current, None, error=exc.reason, soft=exc.soft)
    except BlockedAddressError as exc:
        return Fetched(current, None, error=str(exc))
    except httpx.TimeoutException:
        return Fetched(current, None, error="timed out", soft=True)
    except httpx.RemoteProtocolError as exc:
        return Fetched(current, None, error=f"broken response: {exc}", soft=True)
    except httpx.HTTPError as exc:
        return Fetched(current, None, error=f"{type(exc).__name__}: {exc}", soft=True)
    except (OSError, zlib.error) as exc:
        return Fetched(current, None, error=f"{type(exc).__name__}: {exc}", soft=True)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _outcome(url: str, status: int, body: bytes, headers: httpx.Headers) -> Fetched:
    kept = _kept(headers)
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status in (200, 304):
        return Fetched(url, status, body, kept, retry_after_s=retry_after)
    soft = status in (404, 408, 429) or status >= 500
    return Fetched(
        url, status, b"", kept, error=f"HTTP {status}", soft=soft, retry_after_s=retry_after
    )


class HostLimiter:
    """At most `per_host` requests in flight per host (politeness, RELIABILITY.md)."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.Semaphore] = {}

    def __call__(self, url: str) -> threading.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            if host not in self._semaphores:
                self._semaphores[host] = threading.Semaphore(self._per_host)
            return self._semaphores[host]
