"""The address guard under the one httpx client: which addresses may be reached, checked as the
socket connects (every hop, so DNS rebinding cannot slip past), and a wall-clock deadline that
every socket read and write is held to.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

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


@contextmanager
def deadline(at: float) -> Iterator[None]:
    """Hold every socket read and write in this thread to `at` (time.monotonic()) meanwhile."""
    _deadline.at = at
    try:
        yield
    finally:
        _deadline.at = None
