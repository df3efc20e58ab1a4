"""The address a request comes from, for login throttling (django-axes).

Behind a TLS-terminating proxy every request arrives from the proxy's address, so throttling
by `REMOTE_ADDR` would lock a username out for everyone at once (and anyone could do it to
anyone, admins included). The proxy says who its client was in `X-Forwarded-For`, but any
client can send that header too, so it is believed only when the request comes from a proxy
listed in `settings.RAMP_TRUSTED_PROXIES` (addresses or networks; empty, the default, trusts
no header). Then the client is the rightmost address in the header that is not itself a
trusted proxy: each proxy appends the address it saw, so what a client wrote lies further
left and is never reached.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries) -> tuple[Network, ...]:
    """`10.0.0.1`, `10.0.0.0/8`, `::1` … as networks; ValueError names a bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(entries)


def _address(text: str) -> Address | None:
    """An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:443`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(address: Address | None, trusted: tuple[Network, ...]) -> bool:
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in trusted)


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or, for a request from a trusted proxy, the last
    untrusted hop of X-Forwarded-For (REMOTE_ADDR when the header is missing or garbled)."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = _trusted(tuple(getattr(settings, "RAMP_TRUSTED_PROXIES", ())))
    if not trusted or not _is_trusted(_address(remote), trusted):
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    client = remote
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return client  # a garbled entry: nothing left of it can be believed
        client = str(address)
        if not _is_trusted(address, trusted):
            return client
    return client  # every hop a trusted proxy: the leftmost one
