import socket
from types import SimpleNamespace

from pacsbox.wizard import network


def _address(family: int, address: str) -> SimpleNamespace:
    return SimpleNamespace(family=family, address=address)


def test_only_private_ipv4_addresses_count_as_lan() -> None:
    interfaces = {
        "lo": [_address(socket.AF_INET, "127.0.0.1"), _address(socket.AF_INET6, "::1")],
        "eth0": [_address(socket.AF_INET, "192.168.1.20"), _address(socket.AF_INET6, "fe80::1")],
        "wlan0": [_address(socket.AF_INET, "10.0.0.7"), _address(socket.AF_INET, "172.20.1.2")],
        "wan": [_address(socket.AF_INET, "203.0.113.9"), _address(socket.AF_INET, "172.32.0.1")],
    }
    assert network.lan_addresses(interfaces) == [("192.168.1.20", "eth0"), ("10.0.0.7", "wlan0"), ("172.20.1.2", "wlan0")]


def test_candidates_offer_loopback_and_the_host_name_ticked() -> None:
    offered = {c.name: c for c in network.candidates()}
    for name in network.LOOPBACK:
        assert offered[name].checked
    host = network.host_name()
    if host:
        assert offered[host].checked
    lan = dict(network.lan_addresses())
    assert all(name in offered for name in lan)
    assert not any(address.startswith("127.") for address in lan)


def test_addresses_of_container_bridges_are_offered_unticked() -> None:
    interfaces = {
        "eth0": [_address(socket.AF_INET, "192.168.1.20")],
        "docker0": [_address(socket.AF_INET, "172.17.0.1")],
    }
    offered = {c.name: c for c in network.candidates(interfaces)}
    assert offered["192.168.1.20"].checked
    assert not offered["172.17.0.1"].checked
