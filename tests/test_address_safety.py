"""The private/loopback/link-local refusal happens where the socket connects, on every hop.

tests/conftest.py lets every test reach loopback, so when a request to 127.0.0.1 is refused
here, it is claimwatch's guard that refused it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claimwatch.flows import settings
from claimwatch.flows.fetch.guard import address_allowed
from claimwatch.flows.fetch.http import fetch, make_client
from claimwatch.flows.settings import DEFAULT_CLAIMS, FetchLimits
from tests import faultserver as fs
from tests.servers import FeedEntry, rss

LIMITS = FetchLimits(connect_timeout_s=2, feed_deadline_s=3)


@pytest.fixture()
def server() -> Iterator[fs.FaultServer]:
    with fs.FaultServer() as s:
        feed = rss("Intranet", s.base_url, [FeedEntry("Memo", s.url("/memo.html"), "m")])
        s.routes["/feed.xml"] = fs.static(feed, "application/rss+xml")
        yield s


@pytest.mark.parametrize(("address", "private_allowed", "allowed"), [
    ("93.184.216.34", False, True),
    ("2606:2800:220:1:248:1893:25c8:1946", False, True),
    ("127.0.0.1", False, False),
    ("10.1.2.3", False, False),
    ("192.168.0.10", False, False),
    ("100.64.0.1", False, False),  # carrier-grade NAT
    ("::1", False, False),
    ("fd00::1", False, False),
    ("::ffff:127.0.0.1", False, False),  # IPv4-mapped loopback is loopback
    ("10.1.2.3", True, True),
    ("127.0.0.1", True, True),
    ("169.254.169.254", True, False),  # cloud metadata: never
    ("fe80::1", True, False),
    ("0.0.0.0", True, False),
    ("224.0.0.1", True, False),
])
def test_which_addresses_may_be_reached(address: str, private_allowed: bool, allowed: bool
                                        ) -> None:
    assert address_allowed(address, private_allowed) is allowed


def test_hostname_resolving_to_loopback_is_refused_at_connect(server: fs.FaultServer) -> None:
    url = f"http://localhost:{server.port}/feed.xml"
    with make_client(LIMITS, allow_private=False) as client:
        got = fetch(client, url, max_bytes=100_000, deadline_s=3)
    assert got.error is not None and got.error.startswith("refused: localhost resolves to")
    assert "set allow_private_networks to permit" in got.error
    assert server.requests == []  # not one byte reached the server


def test_hostname_resolving_to_loopback_is_fetched_when_private_networks_are_allowed(
    server: fs.FaultServer,
) -> None:
    with make_client(LIMITS, allow_private=True) as client:
        got = fetch(client, f"http://localhost:{server.port}/feed.xml", max_bytes=100_000,
                    deadline_s=3)
    assert got.ok and b"Memo" in got.body


PUBLIC = "93.184.216.34"  # stands for a public web server; really the test server


class FakeDNS:
    """Answers for made-up names, as no resolver can run here; PUBLIC is routed to loopback.

    Only name resolution is faked: claimwatch's guard, httpcore and the sockets are real.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[str]] = {}
        self.connected: list[str] = []
        real_resolve, real_connect = socket.getaddrinfo, socket.socket.connect

        def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host in self.answers or host == PUBLIC:
                answer = self.answers[host].pop(0) if host in self.answers else PUBLIC
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]
            return real_resolve(host, port, *args, **kwargs)

        def connect(sock: socket.socket, address: Any) -> None:
            self.connected.append(address[0])
            real_connect(sock, ("127.0.0.1", address[1]) if address[0] == PUBLIC else address)

        monkeypatch.setattr(socket, "getaddrinfo", resolve)
        monkeypatch.setattr(socket.socket, "connect", connect)


def test_redirect_from_a_public_host_to_loopback_is_refused_at_that_hop(
    server: fs.FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dns = FakeDNS(monkeypatch)
    dns.answers["news.test"] = [PUBLIC] * 5
    server.routes["/go"] = fs.redirect(f"http://localhost:{server.port}/feed.xml")
    with make_client(LIMITS, allow_private=False) as client:
        first = fetch(client, f"http://news.test:{server.port}/feed.xml", max_bytes=100_000,
                      deadline_s=3)
        hop = fetch(client, f"http://news.test:{server.port}/go", max_bytes=100_000,
                    deadline_s=3)
    assert first.ok  # the public site itself is fine
    assert hop.error is not None and hop.error.startswith("refused: localhost resolves to")
    assert hop.url == f"http://localhost:{server.port}/feed.xml"
    assert server.requests == ["/feed.xml", "/go"]  # the refused hop never reached a server
    assert set(dns.connected) == {PUBLIC}


def test_dns_rebinding_between_requests_is_caught_on_the_next_connect(
    server: fs.FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name answers public first (passing any check made before a request), then loopback.
    dns = FakeDNS(monkeypatch)
    dns.answers["rebind.test"] = [PUBLIC, "127.0.0.1"]
    url = f"http://rebind.test:{server.port}/feed.xml"
    with make_client(LIMITS, allow_private=False) as client:
        # "Connection: close" so that the second request needs a new connection.
        first = fetch(client, url, max_bytes=100_000, deadline_s=2,
                      headers={"Connection": "close"})
        second = fetch(client, url, max_bytes=100_000, deadline_s=2)
    assert first.ok
    assert second.error == ("refused: rebind.test resolves to non-public address 127.0.0.1"
                            " (set allow_private_networks to permit)")
    assert server.requests == ["/feed.xml"] and dns.connected == [PUBLIC]


def test_a_name_with_any_private_answer_is_refused(server: fs.FaultServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def mixed(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in (PUBLIC, "127.0.0.1")]

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    with make_client(LIMITS, allow_private=False) as client:
        got = fetch(client, f"http://mixed.test:{server.port}/feed.xml", max_bytes=1000,
                    deadline_s=2)
    assert got.error is not None and "non-public address 127.0.0.1" in got.error


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_cycle_refuses_a_loopback_feed_unless_private_networks_are_allowed(
    server: fs.FaultServer, tmp_path: Path, db_url: str
) -> None:
    from claimwatch.flows.monitor import cycle, outcome

    sources = tmp_path / "sources.toml"
    feed = f'[[feeds]]\nname = "Intranet"\nurl = "http://localhost:{server.port}/feed.xml"\n'
    sources.write_text("allow_private_networks = false\n" + feed)
    with settings.database(db_url):  # its only source refused: a Failed run (issue 14)
        refused = outcome(cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources),
                                return_state=True))
    assert refused["poll"]["failed"]["Intranet"].startswith("refused: localhost resolves to")
    assert server.requests == []
    sources.write_text("allow_private_networks = true\n" + feed)
    with settings.database(db_url):
        allowed = cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources),
                        respect_backoff=False)
    assert allowed["poll"]["failed"] == {} and server.hits("/feed.xml") == 1
