"""The client's address: the one address that sign-in throttling and the event log use.

Behind reverse proxies every connection comes from the nearest proxy. Each proxy
appends to `X-Forwarded-For` the address it was connected from, so with
`PROXY_COUNT` = N trusted proxies the last N entries are theirs and the client is
the N-th from the right; anything to its left was sent by the client and proves
nothing. With `PROXY_COUNT` = 0 the header is ignored: anyone can send it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, or None when the request names none (not even a socket peer).

    A request without a usable `X-Forwarded-For` behind configured proxies (no header,
    fewer entries than proxies, garbage in the proxies' entries) did not come through
    them, so it is taken to come from the address that connected.
    """
    proxies = settings.PROXY_COUNT
    if proxies > 0:
        forwarded = _forwarded_client(request.META.get(FORWARDED_FOR, ""), proxies)
        if forwarded is not None:
            return forwarded
    return _parsed(REMOTE_ADDR=request.META.get("REMOTE_ADDR", ""))


def _forwarded_client(header: str, proxies: int) -> str | None:
    # Only the proxies' own entries reach the parser: in its lenient mode django-ipware
    # skips entries it cannot read, and a quote sent by the client would swallow the
    # entries after it, moving a forged address into the client's place. Strictly
    # parsed, the proxies' entries give exactly one answer or none.
    entries = header.rsplit(",", proxies)[-proxies:]
    if len(entries) < proxies:
        return None
    return _parsed(proxy_count=proxies - 1, **{FORWARDED_FOR: ",".join(entries)})


def _parsed(proxy_count: int | None = None, **meta: str) -> str | None:
    request = HttpRequest()
    request.META = meta
    address, _routable = get_client_ip(
        request, proxy_count=proxy_count, request_header_order=list(meta), strict=True
    )
    return address
