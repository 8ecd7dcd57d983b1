"""Logging in and out, and who is logged in (``/api/me``)."""

from __future__ import annotations

import re
import secrets

from aiohttp import web

from bot.desk.web.blocking import run_blocking
from bot.desk.web.gate import (
    COOKIE,
    CSRF_FIELD,
    HTTPS,
    clear_cookie,
    clear_session_cookie,
    client_address,
    session_of,
    set_cookie,
    set_session_cookie,
)
from bot.desk.web.next_path import safe_next
from bot.desk.web.rendering import page
from bot.desk.web.request_data import services_of
from bot.desk.web.strings import STRINGS

LOGIN_CSRF_COOKIE = "nightdesk_login_csrf"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def _login_page(request: web.Request, csrf: str, next_path: str, *, error: str = "",
                login: str = "", status: int = 200) -> web.Response:
    """The login form, with the login CSRF token in its cookie and its hidden field."""
    response = page(request, "login.html", status, title=STRINGS.log_in_title, error=error,
                    csrf=csrf, next_path=next_path, login=login)
    set_cookie(response, LOGIN_CSRF_COOKIE, csrf, secure=request.app[HTTPS], path="/login")
    return response


async def login_page(request: web.Request) -> web.Response:
    """The login form, with the login CSRF token (cookie and hidden field).

    A token the browser already holds is kept: a second tab, or the browser fetching
    something else that lands on this page, must not void the form already shown.
    """
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not _TOKEN.fullmatch(csrf):
        csrf = secrets.token_urlsafe(24)
    return _login_page(request, csrf, safe_next(request.query.get("next")))


async def login(request: web.Request) -> web.Response:
    """Checks the rate limit, the login CSRF token and the password; opens a session."""
    form = await request.post()
    login_name = str(form.get("login") or "").strip()
    password = str(form.get("password") or "")
    next_path = safe_next(str(form.get("next") or ""))
    secure = request.app[HTTPS]
    fresh = secrets.token_urlsafe(24)

    def again(error: str, status: int) -> web.Response:
        return _login_page(request, fresh, next_path, error=error, login=login_name,
                           status=status)

    cookie_csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    submitted = str(form.get(CSRF_FIELD) or "")
    if not cookie_csrf or not secrets.compare_digest(cookie_csrf, submitted):
        return again(STRINGS.form_expired, 403)
    address = client_address(request)
    limit = services_of(request).login_limit
    if await run_blocking(limit.blocked, login_name, address):
        minutes = int(limit.window.total_seconds() // 60)
        return again(STRINGS.too_many_attempts.format(minutes=minutes), 429)
    agents = services_of(request).agents
    agent = await run_blocking(agents.authenticate, login_name, password)
    if agent is None:
        await run_blocking(limit.failed, login_name, address)
        return again(STRINGS.wrong_password, 401)
    await run_blocking(limit.succeeded, login_name)
    token = await run_blocking(services_of(request).sessions.open, agent,
                               address=client_address(request))
    response = web.HTTPFound(next_path)
    set_session_cookie(response, token, secure)
    clear_cookie(response, LOGIN_CSRF_COOKIE, secure=secure, path="/login")
    raise response


async def logout(request: web.Request) -> web.Response:
    """Ends the session (the gate has checked its CSRF token)."""
    await run_blocking(services_of(request).sessions.close, request.cookies.get(COOKIE))
    response = web.HTTPFound("/login")
    clear_session_cookie(response, request.app[HTTPS])
    raise response


async def api_me(request: web.Request) -> web.Response:
    """Who is logged in, and the CSRF token for the API's POSTs."""
    session = session_of(request)
    agent = session.agent
    return web.json_response({"login": agent.login, "name": agent.name,
                              "role": agent.role.value, "csrf_token": session.csrf_token})
