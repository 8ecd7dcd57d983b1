"""The desk over HTTP, hardened: Secure cookies and HSTS through HTTPS, where a login may go
next, the login limit behind a shared HTTPS proxy, and whose X-Forwarded-For is believed."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from ipaddress import ip_network
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer

from bot.desk.login_limit import LoginLimit
from bot.desk.services import SERVICES
from bot.desk.web.factory import create_app
from bot.settings import SettingsError, load_settings
from bot.store.audit import AuditLog
from tests.unit.desk.web.test_pages import CSRF, PASSWORD, desk  # noqa: F401

HSTS = "max-age=31536000; includeSubDomains"
NEXT = re.compile(r'name="next" value="([^"]*)"')
PROXY_CLIENT = "203.0.113.7"

Scenario = Callable[[ClientSession, str], Awaitable[Any]]


def rebuilt(app: web.Application, **options: Any) -> web.Application:
    """The same desk (same services and database) created with other options."""
    return create_app(app[SERVICES], **options)


def serve(app: web.Application, scenario: Scenario) -> Any:
    """Runs a browser against the app; the jar sends Secure cookies to it as if over HTTPS."""

    async def main() -> Any:
        server = TestServer(app)
        await server.start_server()
        base = str(server.make_url("")).rstrip("/")
        try:
            jar = CookieJar(unsafe=True, treat_as_secure_origin=[base])
            async with ClientSession(cookie_jar=jar) as browser:
                return await scenario(browser, base)
        finally:
            await server.close()

    return asyncio.run(main())


async def attempt(browser: ClientSession, base: str, login: str, password: str,
                  forwarded_for: str | None = None, next_path: str = "/") -> tuple[int, str]:
    """One login through the form: (status, Location or the page's text)."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    async with browser.get(f"{base}/login", headers=headers) as page:
        csrf = CSRF.search(await page.text()).group(1)
    async with browser.post(f"{base}/login", allow_redirects=False, headers=headers, data={
        "login": login, "password": password, "csrf_token": csrf, "next": next_path,
    }) as answer:
        return answer.status, answer.headers.get("Location") or await answer.text()


def set_cookies(response: Any) -> dict[str, str]:
    """The Set-Cookie headers of a response, by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getall("Set-Cookie", [])}


def assert_secure(cookie_header: str) -> None:
    attributes = [part.strip().lower() for part in cookie_header.split(";")]
    assert "secure" in attributes and "httponly" in attributes, cookie_header
    assert "samesite=strict" in attributes, cookie_header


# ------------------------------------------------------------------ HTTPS: Secure and HSTS


def test_through_https_every_cookie_is_secure_and_every_answer_has_hsts(desk):  # noqa: F811
    app = rebuilt(desk[0], secure_cookies=True)

    async def scenario(browser: ClientSession, base: str) -> None:
        seen: list[tuple[str, str | None]] = []
        async with browser.get(f"{base}/login?next=/report") as page:
            seen.append(("login page", page.headers.get("Strict-Transport-Security")))
            assert_secure(set_cookies(page)["nightdesk_login_csrf"])
            csrf = CSRF.search(await page.text()).group(1)
        async with browser.post(f"{base}/login", allow_redirects=False, data={
                "login": "anna", "password": "wrong password!", "csrf_token": csrf}) as wrong:
            assert wrong.status == 401
            seen.append(("wrong password", wrong.headers.get("Strict-Transport-Security")))
            assert_secure(set_cookies(wrong)["nightdesk_login_csrf"])
            csrf = CSRF.search(await wrong.text()).group(1)
        async with browser.post(f"{base}/login", allow_redirects=False, data={
                "login": "anna", "password": PASSWORD, "csrf_token": csrf,
                "next": "/report"}) as logged_in:
            assert logged_in.status == 302 and logged_in.headers["Location"] == "/report"
            seen.append(("login", logged_in.headers.get("Strict-Transport-Security")))
            cookies = set_cookies(logged_in)
            assert_secure(cookies["nightdesk_session"])
            assert_secure(cookies["nightdesk_login_csrf"])  # the form token, cleared
        for path in ("/", "/api/me", "/health", "/static/desk.css", "/favicon.ico",
                     "/no/such/page", "/tickets/999999"):
            async with browser.get(f"{base}{path}", allow_redirects=False) as answer:
                seen.append((path, answer.headers.get("Strict-Transport-Security")))
        async with browser.get(f"{base}/api/me") as me:
            assert me.status == 200  # the Secure session cookie came back
            token = (await me.json())["csrf_token"]
        async with browser.post(f"{base}/logout", allow_redirects=False,
                                data={"csrf_token": "forged"}) as forged:
            assert forged.status == 403
            seen.append(("forged post", forged.headers.get("Strict-Transport-Security")))
        async with browser.post(f"{base}/logout", allow_redirects=False,
                                headers={"X-CSRF-Token": token}) as out:
            assert out.status == 302
            seen.append(("logout", out.headers.get("Strict-Transport-Security")))
            assert_secure(set_cookies(out)["nightdesk_session"])
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        async with browser.post(f"{base}/login", data=b"x" * 100_000,
                                headers=form) as too_large:
            assert too_large.status == 413
            seen.append(("too large", too_large.headers.get("Strict-Transport-Security")))
        assert seen == [(name, HSTS) for name, _ in seen]

    serve(app, scenario)


def test_over_plain_http_on_loopback_no_hsts_and_no_secure_flag(desk):  # noqa: F811
    app = desk[0]  # create_app's default, and main()'s for an http DESK_URL

    async def scenario(browser: ClientSession, base: str) -> None:
        async with browser.get(f"{base}/login") as page:
            assert "Strict-Transport-Security" not in page.headers
            cookie = set_cookies(page)["nightdesk_login_csrf"]
            assert "secure" not in [part.strip().lower() for part in cookie.split(";")]
            csrf = CSRF.search(await page.text()).group(1)
        async with browser.post(f"{base}/login", allow_redirects=False, data={
                "login": "anna", "password": PASSWORD, "csrf_token": csrf}) as logged_in:
            assert logged_in.status == 302
            assert "Strict-Transport-Security" not in logged_in.headers
            cookie = set_cookies(logged_in)["nightdesk_session"]
            assert "secure" not in [part.strip().lower() for part in cookie.split(";")]
            assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        for path in ("/", "/health", "/no/such/page"):
            async with browser.get(f"{base}{path}", allow_redirects=False) as answer:
                assert "Strict-Transport-Security" not in answer.headers, path

    serve(app, scenario)


# ------------------------------------------------------------------ where a login goes next

REFUSED = [
    "/\t/evil.example", "/%09/evil.example", "/\n/evil.example", "/\r\n/evil.example",
    "/%0d%0a/evil.example", "/%0A/evil.example", "\t//evil.example", "/\t\t/evil.example",
    "/\\evil.example", "/\\/evil.example", "/%5Cevil.example", "/%5C%5Cevil.example",
    "//evil.example", "///evil.example", "//evil.example/tickets/1",
    "/%2F%2Fevil.example", "/%2F/evil.example", "/%2fevil.example",
    "/%252F%252Fevil.example", "/%25252F%25252Fevil.example", "/%2525252F%2525252Fevil",
    "https://evil.example", "http:/evil.example", "HTTPS://evil.example/", "javascript:alert(1)",
    "evil.example", "./evil", "?next=//evil", "", " /tickets/1", "/tickets/1 ",
    "/ /evil.example", "/\x00/evil.example", "/\x7f/evil.example", "/\x0b/evil.example",
    "/\u2028/evil.example", "/\u00a0/evil", "/\u200b/evil",
    "/\uff0fevil.example", "/\u2215evil.example", "/\u2044evil.example", "/\u29f8evil",
    "/\uff3cevil.example", "\uff0f\uff0fevil.example",
    "/" + "a" * 512, "/" + "%2F" * 300,
]
KEPT = [
    "/", "/tickets/12", "/report?since=today", "/report?since=2024-03-06",
    "/?reason=complaint&claimed=no&language=it", "/tickets/3?canned=delay&language=en",
    "/training", "/api/tickets", "/?q=a%20b", "/" + "a" * 511,
]


def test_only_a_plain_path_on_the_desk_may_follow_a_login(desk):  # noqa: F811
    app = desk[0]

    async def scenario(browser: ClientSession, base: str) -> dict[str, tuple[str, str]]:
        where: dict[str, tuple[str, str]] = {}
        for target in REFUSED + KEPT:
            async with browser.get(f"{base}/login", params={"next": target}) as page:
                shown = html.unescape(NEXT.search(await page.text()).group(1))
            status, location = await attempt(browser, base, "anna", PASSWORD, next_path=target)
            assert status == 302, (target, location)
            where[target] = (shown, location)
            browser.cookie_jar.clear()
        return where

    where = serve(app, scenario)
    expected = {target: ("/", "/") for target in REFUSED}
    expected.update({target: (target, target) for target in KEPT})
    assert where == expected


def test_the_tester_link_lands_on_the_desk(desk):  # noqa: F811
    """/login?next=/%09/evil.example: the browser's tab would have made it //evil.example."""
    app = desk[0]

    async def scenario(browser: ClientSession, base: str) -> str:
        async with browser.get(f"{base}/login?next=/%09/evil.example") as page:
            text = await page.text()
        assert 'name="next" value="/"' in text
        csrf = CSRF.search(text).group(1)
        async with browser.post(f"{base}/login", allow_redirects=False, data={
                "login": "anna", "password": PASSWORD, "csrf_token": csrf,
                "next": "/\t/evil.example"}) as answer:
            return answer.headers["Location"]

    assert serve(app, scenario) == "/"


def test_a_page_asked_for_before_logging_in_is_where_the_login_goes(desk):  # noqa: F811
    app = desk[0]

    async def scenario(browser: ClientSession, base: str) -> str:
        async with browser.get(f"{base}/report?since=today") as page:  # follows to the form
            assert page.url.path == "/login"
            text = await page.text()
        csrf = CSRF.search(text).group(1)
        next_path = html.unescape(NEXT.search(text).group(1))
        async with browser.post(f"{base}/login", allow_redirects=False, data={
                "login": "anna", "password": PASSWORD, "csrf_token": csrf,
                "next": next_path}) as answer:
            return answer.headers["Location"]

    assert serve(app, scenario) == "/report?since=today"


# ------------------------------------------------------------------ the login limit


def add_admin(app: web.Application) -> None:
    app[SERVICES].agents.add("boss", "Bea Boss", "admin", PASSWORD, by="test")


def test_one_agents_typos_through_the_shared_proxy_do_not_lock_the_team_out(desk):  # noqa: F811
    """No trusted proxy configured: every agent has the proxy's address (the peer)."""
    app = desk[0]
    add_admin(app)

    async def scenario(browser: ClientSession, base: str) -> None:
        statuses = [(await attempt(browser, base, "anna", "wrong password!"))[0]
                    for _ in range(20)]
        assert statuses == [401] * 5 + [429] * 15  # guessing anna's password stays locked
        status, _ = await attempt(browser, base, "anna", PASSWORD)
        assert status == 429
        status, location = await attempt(browser, base, "boss", PASSWORD)
        assert (status, location) == (302, "/")  # the admin, same address, gets in
        status, _ = await attempt(browser, base, "tina", PASSWORD)
        assert status == 302

    serve(app, scenario)


def test_many_logins_from_one_address_still_lock_the_address(desk):  # noqa: F811
    """The address's limit (100 by default, see desk/test_sessions) set to 12 to keep it quick."""
    engine = desk[2]
    app = create_app(replace(desk[0][SERVICES],
                             login_limit=LoginLimit(engine, max_per_address=12)))
    add_admin(app)

    async def scenario(browser: ClientSession, base: str) -> list[int]:
        for n in range(12):
            status, _ = await attempt(browser, base, f"user{n}", "wrong password!")
            assert status == 401, n
        return [(await attempt(browser, base, login, PASSWORD))[0] for login in ("boss", "anna")]

    assert serve(app, scenario) == [429, 429]


def test_behind_a_trusted_proxy_each_agent_has_their_own_address(desk):  # noqa: F811
    app = rebuilt(desk[0], trusted_proxies=[ip_network("127.0.0.1"), ip_network("10.0.0.0/8")])
    add_admin(app)
    engine = desk[2]

    async def scenario(browser: ClientSession, base: str) -> None:
        for _ in range(5):
            status, _ = await attempt(browser, base, "anna", "wrong password!", PROXY_CLIENT)
            assert status == 401
        assert (await attempt(browser, base, "anna", PASSWORD, PROXY_CLIENT))[0] == 429
        # a client cannot pick its address: what it wrote left of the proxy's entry is ignored
        spoofed = f"198.51.100.1, {PROXY_CLIENT}"
        assert (await attempt(browser, base, "anna", PASSWORD, spoofed))[0] == 429
        # through a second trusted hop the client is still the right-most untrusted address
        two_hops = f"198.51.100.1, {PROXY_CLIENT}, 10.1.2.3"
        assert (await attempt(browser, base, "anna", PASSWORD, two_hops))[0] == 429
        # anna's own lock does not follow her to another address, nor lock the admin
        assert (await attempt(browser, base, "boss", PASSWORD, PROXY_CLIENT))[0] == 302
        browser.cookie_jar.clear()
        assert (await attempt(browser, base, "anna", PASSWORD, "198.51.100.9"))[0] == 302

    serve(app, scenario)
    logins = [e for e in AuditLog(engine).recent() if e.action == "session.login"]
    assert [(e.actor, e.detail["address"]) for e in logins] == [
        ("anna", "198.51.100.9"), ("boss", PROXY_CLIENT)]


def test_one_password_guessed_from_many_addresses_locks_that_login(desk):  # noqa: F811
    app = rebuilt(desk[0], trusted_proxies=[ip_network("127.0.0.0/8")])
    add_admin(app)

    async def scenario(browser: ClientSession, base: str) -> list[int]:
        for n in range(20):
            status, _ = await attempt(browser, base, "anna", "wrong password!",
                                      f"198.51.100.{n // 5 + 1}")
            assert status == 401, n
        return [(await attempt(browser, base, "anna", PASSWORD, "192.0.2.50"))[0],
                (await attempt(browser, base, "boss", PASSWORD, "192.0.2.50"))[0]]

    assert serve(app, scenario) == [429, 302]


@pytest.mark.parametrize("proxies", [[], [ip_network("10.0.0.0/8")]],
                         ids=["no trusted proxy", "the peer is not one"])
def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(desk, proxies):  # noqa: F811
    app = rebuilt(desk[0], trusted_proxies=proxies)
    add_admin(app)
    engine = desk[2]

    async def scenario(browser: ClientSession, base: str) -> None:
        for n in range(5):  # a new made-up address each time: still one client
            status, _ = await attempt(browser, base, "anna", "wrong password!",
                                      f"198.51.100.{n + 1}")
            assert status == 401
        assert (await attempt(browser, base, "anna", PASSWORD, "192.0.2.1"))[0] == 429
        assert (await attempt(browser, base, "boss", PASSWORD, "192.0.2.1"))[0] == 302

    serve(app, scenario)
    login = next(e for e in AuditLog(engine).recent() if e.action == "session.login")
    assert login.detail["address"] == "127.0.0.1"


# ------------------------------------------------------------------ the setting


def test_desk_trusted_proxies_setting():
    assert load_settings({}).desk_trusted_proxies == ()
    settings = load_settings({"DESK_TRUSTED_PROXIES": " 10.0.0.1, 192.168.0.0/16 ,::1,"})
    assert settings.desk_trusted_proxies == (
        ip_network("10.0.0.1"), ip_network("192.168.0.0/16"), ip_network("::1"))
    assert settings.as_environment()["DESK_TRUSTED_PROXIES"] == (
        "10.0.0.1/32,192.168.0.0/16,::1/128")
    assert "DESK_TRUSTED_PROXIES" not in load_settings({}).as_environment()
    with pytest.raises(SettingsError, match="DESK_TRUSTED_PROXIES"):
        load_settings({"DESK_TRUSTED_PROXIES": "proxy.example"})
