"""The single httpx client factory and the guarded fetch every request goes through.

Rules from ../shared/RELIABILITY.md: http/https only; the address is checked when the socket
connects, on every hop, so DNS rebinding cannot slip past; at most 5 redirects followed by hand;
a wall-clock deadline per fetch; a cap on decompressed bytes; only gzip advertised.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from claimwatch.flows.seeds import check_url
from claimwatch.flows.settings import USER_AGENT, FetchLimits

REDIRECTS = {301, 302, 303, 307, 308}
KEPT_HEADERS = ("content-type", "etag", "last-modified", "retry-after", "content-encoding")
# Never fetched, whatever allow_private_networks says: link-local is where cloud metadata
# services answer (169.254.169.254, with credentials), and 0.0.0.0 reaches the local host on
# Linux. allow_private_networks exists for intranet feeds, which never live there.
NEVER_ALLOWED = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("::/128"),
)
# The wall-clock deadline of the fetch running in this thread; every socket read and write is
# held to it, so a server dripping one byte per second cannot outlive it (httpx's timeouts
# count inactivity only). httpx's sync client does its I/O in the calling thread.
_deadline = threading.local()


class BlockedAddressError(Exception):
    """The host resolved to an address claimwatch may not reach (private, loopback, ...)."""


def is_public(address: str) -> bool:
    """True for globally routable unicast addresses; IPv4-mapped IPv6 is judged as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not ip.is_multicast


def address_allowed(address: str, allow_private: bool) -> bool:
    """Public addresses always; private and loopback only when allowed; link-local never."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in NEVER_ALLOWED if net.version == ip.version) or ip.is_multicast:
        return False
    return allow_private or is_public(str(ip))


def _remaining_s() -> float | None:
    at: float | None = getattr(_deadline, "at", None)
    return None if at is None else at - time.monotonic()


def _clamp(timeout: float | None) -> float | None:
    remaining = _remaining_s()
    if remaining is None:
        return timeout
    if remaining <= 0:
        raise httpcore.ReadTimeout("deadline exceeded")
    return remaining if timeout is None else min(timeout, remaining)


class DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the current fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


def _resolve(host: str, port: int) -> list[str]:
    """The addresses a host names: an IP literal is itself, a name goes through DNS."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves, checks and connects in one step, so the checked address is the one used."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _resolve(host, port)
        # Any refused address refuses the host: a rebinding name may list a public address
        # first and a private one second.
        blocked = [a for a in addresses if not address_allowed(a, self._allow_private)]
        if blocked:
            raise BlockedAddressError(
                f"refused: {host} resolves to non-public address {blocked[0]}"
                + ("" if self._allow_private else " (set allow_private_networks to permit)")
            )
        last_error: Exception | None = None
        for address in addresses:
            try:
                return DeadlineStream(self._inner.connect_tcp(
                    address, port, _clamp(timeout), local_address, socket_options
                ))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(self, *args: object, **kwargs: object) -> httpcore.NetworkStream:
        raise BlockedAddressError("refused: unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with our network backend; httpx has no public knob for it."""

    def __init__(self, allow_private: bool, max_connections: int) -> None:
        super().__init__(trust_env=False)
        # Replacing the pool is the documented seam in httpcore (network_backend=...);
        # httpx.HTTPTransport builds the same pool but does not expose that argument.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            retries=2,  # connect errors only, as httpcore defines retries
            network_backend=GuardedBackend(allow_private),
        )


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
    from email.utils import parsedate_to_datetime

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
    client: httpx.Client, url: str, headers: Mapping[str, str], max_bytes: int, deadline: float
) -> tuple[httpx.Response, bytes]:
    request = client.build_request("GET", url, headers=dict(headers))
    request.extensions["timeout"] = _request_timeout(client, deadline).as_dict()
    response = client.send(request, stream=True)
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
    deadline = time.monotonic() + deadline_s
    _deadline.at = deadline
    try:
        return _fetch_hops(client, url, headers or {}, max_bytes, deadline, max_redirects)
    finally:
        _deadline.at = None


def _fetch_hops(client: httpx.Client, url: str, headers: Mapping[str, str], max_bytes: int,
                deadline: float, max_redirects: int) -> Fetched:
    seen: set[str] = set()
    current = url
    try:
        for _hop in range(max_redirects + 1):
            problem = check_url(current)
            if problem:
                return Fetched(current, None, error=f"refused: {problem}")
            if current in seen:
                return Fetched(current, None, error="redirect loop")
            seen.add(current)
            response, body = _one_hop(client, current, headers, max_bytes, deadline)
            status = response.status_code
            if status in REDIRECTS and "location" in response.headers:
                current = urljoin(current, response.headers["location"])
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
