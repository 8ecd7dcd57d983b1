"""The desk web app's gatekeeping: who is logged in, what their role allows, CSRF, headers.

* Every route needs a session, except the ones marked with `public`. Without one, pages
  redirect to the login page (with ``next``) and ``/api/`` routes answer 401 in JSON.
* `require(permission)` marks a handler that the session's role must allow (else 403).
* Every POST, PUT, PATCH and DELETE of a session must carry its CSRF token, in the form field
  ``csrf_token`` or the ``X-CSRF-Token`` header (else 403).
* Every answer gets headers that keep the desk out of frames and caches; served through
  HTTPS (`HTTPS`, from an https DESK_URL), every answer also carries HSTS and every cookie
  is ``Secure``.
* `client_address` is the address the login limit and the audit see: the peer, or, when the
  peer is one of `TRUSTED_PROXIES`, the right-most untrusted address of X-Forwarded-For.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.desk.roles import Permission
from bot.desk.sessions import DeskSession, SessionStore
from bot.desk.web.blocking import run_blocking

COOKIE = "nightdesk_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSIONS = web.AppKey("sessions", SessionStore)
SESSION = "desk_session"  # the request key holding the DeskSession
HTTPS = web.AppKey("served_over_https", bool)
TRUSTED_PROXIES = web.AppKey("trusted_proxies", tuple)
HSTS = "max-age=31536000; includeSubDomains"
_EXPIRED = "Thu, 01 Jan 1970 00:00:00 GMT"

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
}


def public(handler: Handler) -> Handler:
    """Marks a handler that needs no session (the login page, health)."""
    handler.desk_public = True  # type: ignore[attr-defined]
    return handler


def require(permission: Permission) -> Callable[[Handler], Handler]:
    """Marks a handler whose caller's role must have `permission`."""

    def mark(handler: Handler) -> Handler:
        handler.desk_permission = permission  # type: ignore[attr-defined]
        return handler

    return mark


def session_of(request: web.Request) -> DeskSession:
    """The session of a request that passed the middleware."""
    return request[SESSION]


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def _refuse(request: web.Request, status: int, message: str) -> web.StreamResponse:
    if _is_api(request):
        return web.json_response({"error": message}, status=status)
    if status == 401:
        target = quote(request.path_qs, safe="")
        raise web.HTTPFound(f"/login?next={target}")
    return web.Response(text=message, status=status)


async def _submitted_csrf(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


@web.middleware
async def desk_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Session, role and CSRF checks, then the security headers."""
    try:
        response = await _checked(request, handler)
    except web.HTTPException as redirect_or_error:
        _secure(redirect_or_error)
        raise
    _secure(response)
    return response


def _secure(response: web.StreamResponse) -> None:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


async def _checked(request: web.Request, handler: Handler) -> web.StreamResponse:
    target: Any = getattr(handler, "__wrapped__", handler)
    if getattr(target, "desk_public", False) or getattr(handler, "desk_public", False):
        return await handler(request)
    session = await run_blocking(request.app[SESSIONS].find, request.cookies.get(COOKIE))
    if session is None:
        return _refuse(request, 401, "log in first")
    request[SESSION] = session
    permission = getattr(handler, "desk_permission", None)
    if permission is not None and not session.agent.role.may(permission):
        return _refuse(request, 403, f"the {session.agent.role.value} role may not do this")
    if request.method in _UNSAFE_METHODS and not session.csrf_ok(await _submitted_csrf(request)):
        return _refuse(request, 403, "missing or wrong CSRF token: reload the page and retry")
    return await handler(request)


async def strict_transport(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: HSTS on every answer of a desk served through HTTPS.

    A signal rather than the gate, so that answers the gate never sees (an unknown route's
    error, a body too large) carry it too.
    """
    if request.app.get(HTTPS, False):
        response.headers["Strict-Transport-Security"] = HSTS


def set_cookie(response: web.StreamResponse, name: str, value: str, *, secure: bool,
               path: str = "/") -> None:
    """Sets an HttpOnly, SameSite=Strict cookie, ``Secure`` when served through HTTPS."""
    response.set_cookie(name, value, httponly=True, samesite="Strict", secure=secure, path=path)


def clear_cookie(response: web.StreamResponse, name: str, *, secure: bool,
                 path: str = "/") -> None:
    """Removes a cookie, with the same attributes it was set with."""
    response.set_cookie(name, "", max_age=0, expires=_EXPIRED, httponly=True,
                        samesite="Strict", secure=secure, path=path)


def set_session_cookie(response: web.StreamResponse, token: str, secure: bool) -> None:
    """Puts the session token in an HttpOnly, SameSite=Strict cookie."""
    set_cookie(response, COOKIE, token, secure=secure)


def clear_session_cookie(response: web.StreamResponse, secure: bool) -> None:
    """Removes the session cookie."""
    clear_cookie(response, COOKIE, secure=secure)


def _parse_hop(text: str) -> IPAddress | None:
    """An address of X-Forwarded-For (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``), or None."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in proxies)


def client_address(request: web.Request) -> str:
    """Who is asking: the peer, unless the peer is a trusted proxy.

    Through trusted proxies, X-Forwarded-For is read from the right (each proxy appends the
    address it saw) and the first address that is not a trusted proxy is the client; what
    lies left of it was written by the client and is ignored. Without trusted proxies (the
    default) the header is ignored altogether, as anyone can send it.
    """
    peer_text = request.remote or "unknown"
    proxies: tuple[IPNetwork, ...] = request.app.get(TRUSTED_PROXIES, ())
    peer = _parse_hop(peer_text)
    if not proxies or peer is None or not _trusted(peer, proxies):
        return peer_text
    hops = [hop for header in request.headers.getall("X-Forwarded-For", [])
            for hop in header.split(",")]
    client = peer
    for hop in reversed(hops):
        address = _parse_hop(hop)
        if address is None:  # not an address: keep the last one a trusted proxy vouched for
            break
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)
