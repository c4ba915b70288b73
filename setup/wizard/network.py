"""Names this machine is reached by: loopback, its host name and its private LAN addresses."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import psutil
from pacsbox.wizard.answers import AnswerError, parse_name

__all__ = ["LOOPBACK", "Candidate", "candidates", "host_name", "lan_addresses"]

LOOPBACK = ("localhost", "127.0.0.1", "::1")

_PRIVATE_V4 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
"""RFC 1918 ranges: the addresses other machines on a LAN reach this one by."""

_VIRTUAL = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "cni", "flannel", "podman", "lxc")
"""Interface name prefixes of container and VM bridges: offered, but not ticked by default."""


@dataclass(frozen=True)
class Candidate:
    """A name offered as a checkbox, and whether it is ticked unless the user says otherwise."""

    name: str
    checked: bool
    note: str = ""


def host_name() -> str | None:
    """This machine's host name when it can go in a certificate, else None."""
    try:
        name = parse_name(socket.gethostname())
    except AnswerError:
        return None
    return None if name in LOOPBACK else name


def lan_addresses(interfaces: Mapping[str, Iterable[object]] | None = None) -> list[tuple[str, str]]:
    """Private IPv4 addresses of the interfaces that are up, as `(address, interface)`.

    Args:
        interfaces: `psutil.net_if_addrs()`-shaped mapping; read from the system when None.
    """
    if interfaces is None:
        stats = psutil.net_if_stats()
        interfaces = {n: a for n, a in psutil.net_if_addrs().items() if n in stats and stats[n].isup}
    found = []
    for interface, addresses in sorted(interfaces.items()):
        for address in addresses:
            if getattr(address, "family", None) != socket.AF_INET:
                continue
            ip = ipaddress.ip_address(address.address)  # type: ignore[attr-defined]
            if any(ip in network for network in _PRIVATE_V4):
                found.append((str(ip), interface))
    return found


def candidates(interfaces: Mapping[str, Iterable[object]] | None = None) -> list[Candidate]:
    """Every name worth offering for the certificate, LAN addresses of bridges unticked."""
    offered = [Candidate(name, True) for name in LOOPBACK]
    if name := host_name():
        offered.append(Candidate(name, True, "host name"))
    for address, interface in lan_addresses(interfaces):
        virtual = interface.startswith(_VIRTUAL)
        offered.append(Candidate(address, not virtual, f"{interface}{', virtual' if virtual else ''}"))
    return offered
