"""The desk web app's gatekeeping: who is logged in, what their role allows, CSRF, headers.

* Every route needs a session, except the ones marked with `public`. Without one, pages
  redirect to the login page (with ``next``) and ``/api/`` routes answer 401 in JSON.
* `require(permission)` marks a handler that the session's role must allow (else 403).
* Every POST, PUT, PATCH and DELETE of a session must carry its CSRF token, in the form field
  ``csrf_token`` or the ``X-CSRF-Token`` header (else 403).
* Every answer gets headers that keep the desk out of frames and caches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.desk.roles import Permission
from bot.desk.sessions import DeskSession, SessionStore

COOKIE = "nightdesk_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSIONS = web.AppKey("sessions", SessionStore)
SESSION = "desk_session"  # the request key holding the DeskSession

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
    session = request.app[SESSIONS].find(request.cookies.get(COOKIE))
    if session is None:
        return _refuse(request, 401, "log in first")
    request[SESSION] = session
    permission = getattr(handler, "desk_permission", None)
    if permission is not None and not session.agent.role.may(permission):
        return _refuse(request, 403, f"the {session.agent.role.value} role may not do this")
    if request.method in _UNSAFE_METHODS and not session.csrf_ok(await _submitted_csrf(request)):
        return _refuse(request, 403, "missing or wrong CSRF token: reload the page and retry")
    return await handler(request)


def set_session_cookie(response: web.StreamResponse, token: str, secure: bool) -> None:
    """Puts the session token in an HttpOnly, SameSite=Strict cookie."""
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/")


def clear_session_cookie(response: web.StreamResponse) -> None:
    """Removes the session cookie."""
    response.del_cookie(COOKIE, path="/")
