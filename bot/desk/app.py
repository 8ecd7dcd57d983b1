"""The agents' desk web app (aiohttp): pages for people, the same data as JSON under /api/.

Login and logout; the queue with filters and claims; a ticket's page (packet, transcript,
order, notes, reply, canned replies, priority, resolve or hand back, marking a customer's
message for the trainers); the queue and the ticket show the ticket's language, and the
canned replies come in it first; the morning report (charts and figures, also by language)
and its figures as JSON;
the Training section (`bot.desk.training_pages`); the admins' Customers' data section
(`bot.desk.customer_pages`).
`nightdesk up` runs it (`python -m bot.desk.app --host H --port P`, from DESK_URL). Pages
are rendered on the server with every customer text escaped; the gate (`bot.desk.web_auth`)
checks the session, the role and CSRF on every route.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.desk import ticket_page
from bot.desk.canned import pick
from bot.desk.claims import ClaimError
from bot.desk.customer_pages import add_customer_routes
from bot.desk.languages import language_badge, language_name
from bot.desk.layout import header, page, refused
from bot.desk.notes import NoteError
from bot.desk.queue import QueueFilter, QueueRow, build_queue
from bot.desk.roles import Permission
from bot.desk.services import SERVICES, DeskServices
from bot.desk.training_pages import add_training_routes
from bot.desk.web_auth import (
    COOKIE,
    CSRF_FIELD,
    HTTPS,
    SESSIONS,
    TRUSTED_PROXIES,
    IPNetwork,
    clear_cookie,
    clear_session_cookie,
    client_address,
    desk_gate,
    public,
    require,
    session_of,
    set_cookie,
    set_session_cookie,
    strict_transport,
)
from bot.handoff.reasons import HandoffReason, Priority
from bot.handoff.tickets import Ticket, TicketError
from bot.messenger.channel_names import CHANNEL_NAME, COMMENT_CHANNEL
from bot.orders import Order, OrderLookupError

LOGIN_CSRF_COOKIE = "nightdesk_login_csrf"
SECURE_COOKIES = HTTPS  # served through HTTPS: Secure cookies and HSTS
NEXT_MAX_LENGTH = 512
_BROWSERS_DROP = str.maketrans("", "", "\t\r\n")  # what browsers strip from a URL anywhere


def _services(request: web.Request) -> DeskServices:
    return request.app[SERVICES]


def _safe_next(target: str | None) -> str:
    """Where a login may go next: only a plain path on this desk, else "/".

    The value must be printable ASCII without spaces (no control characters, tabs or line
    breaks that browsers drop, no look-alike slashes), at most `NEXT_MAX_LENGTH` long, start
    with one "/" not followed by another, and hold no backslash; it may have no scheme and
    no host. The same holds after each of up to three rounds of percent-decoding, so
    ``/%2F%2Fevil`` and ``/%09/evil`` are refused too, whoever decodes them on the way.
    """
    if not target or len(target) > NEXT_MAX_LENGTH:
        return "/"
    if not all("!" <= character <= "~" for character in target):
        return "/"
    candidate = target
    for _ in range(4):
        if not _plain_path(candidate):
            return "/"
        decoded = unquote(candidate)
        if decoded == candidate:
            return target
        candidate = decoded
    return "/"  # still encoded after three rounds: nothing a desk link looks like


def _plain_path(value: str) -> bool:
    """A path of this site, also once browsers have dropped tabs and line breaks."""
    if any(unicodedata.category(character) == "Cc" for character in value):
        return False
    stripped = value.translate(_BROWSERS_DROP)
    if not stripped.startswith("/") or stripped[1:2] == "/" or "\\" in stripped:
        return False
    parts = urlsplit(stripped)
    return not parts.scheme and not parts.netloc


def _address(request: web.Request) -> str:
    return client_address(request)


# ------------------------------------------------------------------ logging in and out


def _login_form(error: str, next_path: str, csrf: str, login: str = "") -> str:
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return (
        '<form class="login" method="post" action="/login">'
        "<h1>nightdesk</h1>" + message
        + f'<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(csrf)}">'
        + f'<input type="hidden" name="next" value="{html.escape(next_path)}">'
        + '<label>Login<input name="login" autocomplete="username" required '
        + f'value="{html.escape(login)}"></label>'
        + '<label>Password<input type="password" name="password" '
        + 'autocomplete="current-password" required></label>'
        + '<button type="submit">Log in</button></form>'
    )


def _with_login_csrf(response: web.Response, csrf: str, secure: bool) -> web.Response:
    set_cookie(response, LOGIN_CSRF_COOKIE, csrf, secure=secure, path="/login")
    return response


@public
async def login_page(request: web.Request) -> web.Response:
    """The login form, with the login CSRF token (cookie and hidden field).

    A token the browser already holds is kept: a second tab, or the browser fetching
    something else that lands on this page, must not void the form already shown.
    """
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{32}", csrf):
        csrf = secrets.token_urlsafe(24)
    form = _login_form("", _safe_next(request.query.get("next")), csrf)
    return _with_login_csrf(page("Log in", form), csrf, request.app[SECURE_COOKIES])


@public
async def login(request: web.Request) -> web.Response:
    """Checks the rate limit, the login CSRF token and the password; opens a session."""
    form = await request.post()
    login_name = str(form.get("login") or "").strip()
    password = str(form.get("password") or "")
    next_path = _safe_next(str(form.get("next") or ""))
    secure = request.app[SECURE_COOKIES]
    fresh = secrets.token_urlsafe(24)

    def again(error: str, status: int) -> web.Response:
        body = _login_form(error, next_path, fresh, login_name)
        return _with_login_csrf(page("Log in", body, status), fresh, secure)

    cookie_csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    submitted = str(form.get(CSRF_FIELD) or "")
    if not cookie_csrf or not secrets.compare_digest(cookie_csrf, submitted):
        return again("The form expired: please log in again.", 403)
    limit = _services(request).login_limit
    if limit.blocked(login_name, _address(request)):
        minutes = int(limit.window.total_seconds() // 60)
        return again(f"Too many failed attempts: try again in {minutes} minutes.", 429)
    agents = _services(request).agents
    agent = agents.authenticate(login_name, password)
    if agent is None:
        limit.failed(login_name, _address(request))
        return again("Wrong login or password.", 401)
    limit.succeeded(login_name)
    token = _services(request).sessions.open(agent, address=_address(request))
    response = web.HTTPFound(next_path)
    set_session_cookie(response, token, secure)
    clear_cookie(response, LOGIN_CSRF_COOKIE, secure=secure, path="/login")
    raise response


async def logout(request: web.Request) -> web.Response:
    """Ends the session (the gate has checked its CSRF token)."""
    _services(request).sessions.close(request.cookies.get(COOKIE))
    response = web.HTTPFound("/login")
    clear_session_cookie(response, request.app[SECURE_COOKIES])
    raise response


# ------------------------------------------------------------------ the open tickets


def _waiting(since: datetime, now: datetime) -> str:
    minutes = max(int((now - since).total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours < 48 else f"{hours // 24} days"


def _ticket_json(row: QueueRow, now: datetime) -> dict[str, object]:
    ticket, claim = row.ticket, row.claim
    return {
        "claimed_by": claim.login if claim else None,
        "channel_label": _channel_label(ticket),
        "reply_deadline": row.deadline.isoformat() if row.deadline else None,
        "lapses_today": row.lapses_today,
        "case_number": ticket.case_number,
        "customer_name": ticket.customer_name,
        "language": ticket.language,
        "channel": ticket.channel,
        "reason": ticket.reason.value,
        "priority": ticket.priority.value,
        "order_number": ticket.order_number,
        "created_at": ticket.created_at.isoformat(),
        "waiting_minutes": max(int((now - ticket.created_at).total_seconds() // 60), 0),
    }


@require(Permission.READ_TICKETS)
async def home(request: web.Request) -> web.Response:
    """The open tickets, most urgent first, then oldest."""
    session = session_of(request)
    now = datetime.now(timezone.utc)
    claims = _services(request).claims.holders()
    csrf = f'<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(session.csrf_token)}">'
    may_work = session.agent.role.may(Permission.WORK_TICKETS)

    def claim_cell(ticket: Ticket) -> str:
        claim = claims.get(ticket.case_number)
        holder = html.escape(claim.name) if claim else "—"
        if not may_work:
            return holder
        mine = claim is not None and claim.login == session.agent.login
        if claim is not None and not mine and not session.agent.role.may(
                Permission.MANAGE_AGENTS):
            return holder
        action = "unclaim" if claim else "claim"
        return (f'{holder} <form class="inline" method="post" '
                f'action="/tickets/{ticket.case_number}/{action}">{csrf}'
                f'<button type="submit">{action.capitalize()}</button></form>')

    only = QueueFilter.from_query(dict(request.query), _services(request).languages)
    zone = _services(request).zone

    def deadline_cell(row: QueueRow) -> str:
        if row.deadline is None:
            return "—"
        text = _time_in(row.deadline, zone)
        return f'<strong class="urgent">{text}</strong>' if row.lapses_today else text

    rows = "".join(
        f'<tr class="{"lapses" if r.lapses_today else ""}">'
        f'<td><a href="/tickets/{r.ticket.case_number}">#{r.ticket.case_number}</a></td>'
        f'<td>{html.escape(r.ticket.customer_name or "—")}</td>'
        f"<td>{language_badge(r.ticket.language)}</td>"
        f"<td>{html.escape(_channel_label(r.ticket))}</td>"
        f"<td>{html.escape(r.ticket.reason.value)}</td>"
        f'<td class="{r.ticket.priority.value}">{r.ticket.priority.value}</td>'
        f'<td>{html.escape(r.ticket.order_number or "")}</td>'
        f"<td>{_waiting(r.ticket.created_at, now)}</td><td>{deadline_cell(r)}</td>"
        f"<td>{claim_cell(r.ticket)}</td></tr>"
        for r in _queue(request, now, only)
    ) or '<tr><td colspan="10">No open tickets.</td></tr>'
    body = (
        header(request) + "<main><h1>Open tickets</h1>"
        + _filter_form(only, _services(request).languages)
        + "<table><thead><tr><th>Case</th><th>Customer</th><th>Language</th>"
        "<th>Channel</th><th>Reason</th><th>Priority</th><th>Order</th><th>Waiting</th>"
        "<th>Reply by</th>"
        f"<th>Claimed by</th></tr></thead><tbody>{rows}</tbody></table></main>"
    )
    return page("Open tickets", body)


def _time_in(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b %H:%M")


def _channel_label(ticket: Ticket) -> str:
    """DM or comment for the Facebook Page, else the channel's name."""
    return {CHANNEL_NAME: "DM", COMMENT_CHANNEL: "comment"}.get(ticket.channel, ticket.channel)


def _last_customer_message(request: web.Request) -> Callable[[Ticket], datetime | None]:
    threads = _services(request).threads

    def last(ticket: Ticket) -> datetime | None:
        if ticket.channel != "messenger":
            return None
        state = threads.get(ticket.conversation_id)
        return state.last_customer_message_at if state else None

    return last


def _queue(request: web.Request, now: datetime, only: QueueFilter) -> list[QueueRow]:
    services = _services(request)
    return build_queue(services.tickets.list_open(), services.claims.holders(),
                       _last_customer_message(request), now, services.zone, only)


def _filter_form(only: QueueFilter, languages: Sequence[str] = ()) -> str:
    def options(name: str, values: list[str], chosen: str | None,
                shown: Callable[[str], str] = str) -> str:
        items = "".join(
            f'<option value="{html.escape(v)}"{" selected" if v == chosen else ""}>'
            f"{html.escape(shown(v)) if v else 'any'}</option>"
            for v in ["", *values]
        )
        return f'<label>{name} <select name="{name}">{items}</select></label> '

    claimed = {True: "yes", False: "no"}.get(only.claimed)  # type: ignore[arg-type]
    return (
        '<form class="filters" method="get" action="/">'
        + options("reason", [r.value for r in HandoffReason],
                  only.reason.value if only.reason else None)
        + options("priority", [p.value for p in Priority],
                  only.priority.value if only.priority else None)
        + options("claimed", ["yes", "no"], claimed)
        + (options("language", list(languages), only.language, language_name)
           if len(languages) > 1 else "")
        + '<button type="submit">Filter</button></form>'
    )


def _ticket_or_404(request: web.Request) -> Ticket:
    try:
        return _services(request).tickets.get(_case(request))
    except TicketError:
        raise web.HTTPNotFound(text=f"no case #{request.match_info['case']}") from None


async def _order_for(request: web.Request, ticket: Ticket) -> tuple[Order | None, bool]:
    """The ticket's order from the shop, and whether the shop answered."""
    if not ticket.order_number:
        return None, True
    try:
        return await _services(request).orders.get_order(ticket.order_number), True
    except OrderLookupError:
        return None, False


@require(Permission.READ_TICKETS)
async def ticket_view(request: web.Request) -> web.Response:
    """One ticket: the packet, the transcript, the order, the private notes."""
    session = session_of(request)
    ticket = _ticket_or_404(request)
    zone = _services(request).zone
    order, looked_up = await _order_for(request, ticket)
    review = _services(request).review
    canned = _services(request).canned
    chosen = pick(canned, request.query.get("canned"),
                  request.query.get("language") or ticket.language)
    reply_text = chosen.filled({
        "first_name": ticket.customer_name, "order_number": ticket.order_number,
        "tracking_url": order.tracking_url if order else None,
        "agent_name": session.agent.first_name,
    }) if chosen else ""
    body = (
        header(request) + "<main>"
        + ticket_page.packet(ticket, _services(request).tickets.packet(ticket),
                             _services(request).claims.holder(ticket.case_number), zone)
        + '<div class="columns"><section>' + ticket_page.transcript(
            ticket, zone, session.csrf_token if review else "",
            review.marked_times(ticket.conversation_id) if review else frozenset())
        + "</section><section>" + ticket_page.order_details(ticket, order, looked_up)
        + ticket_page.work_panel(ticket.case_number, _services(request).notes.for_ticket(
            ticket.case_number), zone, session.csrf_token,
            session.agent.role.may(Permission.WORK_TICKETS), canned, reply_text,
            language=ticket.language, reply_language=chosen.language if chosen else "")
        + "</section></div></main>"
    )
    return page(f"Case #{ticket.case_number}", body)


@require(Permission.READ_TICKETS)
async def mark_line(request: web.Request) -> web.Response:
    """Marks a customer message for the trainers: "the bot should have understood this"."""
    ticket = _ticket_or_404(request)
    review = _services(request).review
    index = int(request.match_info["line"])
    back = f"/tickets/{ticket.case_number}"
    if review is None:
        return refused("Not marked", "this desk has no review inbox", back, 404)
    if index >= len(ticket.transcript) or ticket.transcript[index].sender != "customer":
        return refused("Not marked", "only a customer's message can be marked", back, 400)
    line = ticket.transcript[index]
    agent = session_of(request).agent
    review.mark(ticket.conversation_id, line.at, line.text, by=agent.login,
                case_number=ticket.case_number, line=index)
    raise web.HTTPFound(back)


@require(Permission.WORK_TICKETS)
async def add_note(request: web.Request) -> web.Response:
    """The note form: back to the ticket, or the reason the note was refused."""
    ticket = _ticket_or_404(request)
    form = await request.post()
    try:
        _services(request).notes.add(ticket.case_number, session_of(request).agent,
                               str(form.get("text") or ""))
    except NoteError as error:
        return refused("Not added", str(error), f"/tickets/{ticket.case_number}", 400)
    raise web.HTTPFound(f"/tickets/{ticket.case_number}")


@require(Permission.WORK_TICKETS)
async def reply(request: web.Request) -> web.Response:
    """Sends the agent's reply to the customer; back to the ticket, or why it was not sent."""
    from bot.desk.replies import ReplyRefused

    agent = session_of(request).agent
    ticket = _ticket_or_404(request)
    text = str((await request.post()).get("text") or "")
    try:
        await _services(request).send_reply(ticket, agent, text)
    except ReplyRefused as error:
        return refused("Not sent", f"Not sent: {error}", f"/tickets/{ticket.case_number}", 409)
    _services(request).agents.audit.record(
        agent.login, "ticket.reply", f"ticket:{ticket.case_number}",
        {"characters": len(text.strip())},
    )
    raise web.HTTPFound(f"/tickets/{ticket.case_number}")


@require(Permission.WORK_TICKETS)
async def change_priority(request: web.Request) -> web.Response:
    """Moves a ticket up or down the queue."""
    agent = session_of(request).agent
    ticket = _ticket_or_404(request)
    chosen = str((await request.post()).get("priority") or "")
    try:
        priority = Priority(chosen)
        _services(request).tickets.set_priority(ticket.case_number, priority, by=agent.login)
    except (ValueError, TicketError) as error:
        reason = f"unknown priority {chosen!r}" if not isinstance(error, TicketError) else error
        return refused("Not changed", str(reason), f"/tickets/{ticket.case_number}", 400)
    raise web.HTTPFound(f"/tickets/{ticket.case_number}")


@require(Permission.WORK_TICKETS)
async def hand_back_case(request: web.Request) -> web.Response:
    """Gives the case back to the bot, settled ("resolve") or not ("handback").

    On Messenger thread control is taken back first.
    """
    from bot.messenger.hand_back import HandBackError

    agent = session_of(request).agent
    case = _case(request)
    resolved = request.match_info["action"] == "resolve"
    try:
        await _services(request).hand_back(case, agent.login, resolved=resolved)
    except HandBackError as error:
        return refused("Not handed back", f"Not handed back: {error}", f"/tickets/{case}", 409)
    _services(request).claims.release(case)
    raise web.HTTPFound("/")


@require(Permission.READ_TICKETS)
async def api_ticket(request: web.Request) -> web.Response:
    """One ticket with its whole transcript, times as the desk shows them."""
    ticket = _ticket_or_404(request)
    zone = _services(request).zone
    claim = _services(request).claims.holder(ticket.case_number)
    return web.json_response({
        "case_number": ticket.case_number,
        "status": ticket.status,
        "language": ticket.language,
        "priority": ticket.priority.value,
        "reason": ticket.reason.value,
        "claimed_by": claim.login if claim else None,
        "transcript": [
            {"sender": line.sender, "text": line.text, "at": line.at.isoformat(),
             "when": ticket_page.time_shown(line.at, zone)}
            for line in ticket.transcript
        ],
    })


@require(Permission.READ_TICKETS)
async def api_report(request: web.Request) -> web.Response:
    """The figures of a period as JSON (``?since=yesterday|today|YYYY-MM-DD``)."""
    from bot.metrics.report import PeriodError

    report = _services(request).report
    if report is None:
        return web.json_response({"error": "no report on this desk"}, status=404)
    try:
        figures = await asyncio.to_thread(report, request.query.get("since", "yesterday"))
    except PeriodError as error:
        return web.json_response({"error": str(error)}, status=400)
    return web.json_response(figures)


def _period_form(since: str) -> str:
    return (
        '<form class="filters" method="get" action="/report">'
        '<a href="/report?since=yesterday">Yesterday</a> <a href="/report?since=today">Today</a> '
        f'<label>Day <input type="date" name="since" value="{html.escape(since)}"></label> '
        '<button type="submit">Show</button></form>'
    )


@require(Permission.READ_TICKETS)
async def report_view(request: web.Request) -> web.Response:
    """The morning report: charts (matplotlib, embedded) and figures of a period."""
    from bot.desk.report_page import report_section
    from bot.metrics.charts import draw_all
    from bot.metrics.report import PeriodError

    report = _services(request).report
    since = request.query.get("since", "yesterday")
    head = header(request) + "<main><h1>Morning report</h1>"
    if report is None:
        return page("Report", head + "<p>No report on this desk.</p></main>", status=404)

    def build() -> str:
        figures = report(since)
        return report_section(figures, draw_all(figures), _services(request).zone)

    try:
        section = await asyncio.to_thread(build)
    except PeriodError as error:
        body = (head + _period_form("") + f'<p class="error" role="alert">'
                f"{html.escape(str(error))}.</p></main>")
        return page("Report", body, status=400)
    json_link = f'<p><a href="/api/report?since={html.escape(since)}">These figures as JSON</a></p>'
    return page("Report", head + _period_form(since if since[:1].isdigit() else "")
                 + section + json_link + "</main>")


@require(Permission.READ_TICKETS)
async def api_tickets(request: web.Request) -> web.Response:
    """The open tickets as JSON, in the same order as the page."""
    now = datetime.now(timezone.utc)
    only = QueueFilter.from_query(dict(request.query), _services(request).languages)
    rows = _queue(request, now, only)
    return web.json_response({"tickets": [_ticket_json(row, now) for row in rows]})


def _case(request: web.Request) -> int:
    try:
        return int(request.match_info["case"])
    except ValueError:
        raise web.HTTPNotFound(text="no such case") from None


def _change_claim(request: web.Request, action: str) -> str | None:
    """Claims or unclaims the request's case for its agent; the refusal, if any."""
    agent = session_of(request).agent
    book = _services(request).claims
    try:
        if action == "claim":
            book.claim(_case(request), agent)
        else:
            book.unclaim(_case(request), agent,
                         force=agent.role.may(Permission.MANAGE_AGENTS))
    except ClaimError as error:
        return str(error)
    return None


@require(Permission.WORK_TICKETS)
async def api_claim(request: web.Request) -> web.Response:
    """POST /api/tickets/{case}/claim or /unclaim: 200, or 409 with the reason."""
    action = request.match_info["action"]
    refusal = _change_claim(request, action)
    if refusal is not None:
        return web.json_response({"error": refusal}, status=409)
    holder = _services(request).claims.holder(_case(request))
    return web.json_response({"case_number": _case(request),
                              "claimed_by": holder.login if holder else None})


@require(Permission.WORK_TICKETS)
async def page_claim(request: web.Request) -> web.Response:
    """The queue's Claim / Unclaim buttons: back to the queue, or the reason it was refused."""
    refusal = _change_claim(request, request.match_info["action"])
    if refusal is not None:
        return refused("Not done", refusal, "/", 409)
    raise web.HTTPFound("/")


async def api_me(request: web.Request) -> web.Response:
    """Who is logged in, and the CSRF token for the API's POSTs."""
    session = session_of(request)
    agent = session.agent
    return web.json_response({"login": agent.login, "name": agent.name,
                              "role": agent.role.value, "csrf_token": session.csrf_token})


_CSS = (Path(__file__).resolve().parent / "desk.css").read_bytes()
_JS = (Path(__file__).resolve().parent / "desk.js").read_bytes()


@public
async def stylesheet(_: web.Request) -> web.Response:
    """The desk's stylesheet (a file of its own, so the CSP needs no inline styles)."""
    return web.Response(body=_CSS, content_type="text/css", charset="utf-8",
                        headers={"Cache-Control": "max-age=3600"})


@public
async def script(_: web.Request) -> web.Response:
    """The desk's script (live transcript on a ticket page)."""
    return web.Response(body=_JS, content_type="text/javascript", charset="utf-8",
                        headers={"Cache-Control": "max-age=3600"})


@public
async def favicon(_: web.Request) -> web.Response:
    """No icon: answered here so browsers asking for one are not sent to the login page."""
    return web.Response(status=204)


@public
async def health(_: web.Request) -> web.Response:
    """For `nightdesk up` and load balancers."""
    return web.json_response({"status": "ok"})


def create_app(services: DeskServices, *, secure_cookies: bool = False,
               trusted_proxies: Sequence[IPNetwork] = ()) -> web.Application:
    """The desk application.

    Args:
        services: what the desk works with.
        secure_cookies: it is served through HTTPS (an https DESK_URL): every cookie is
            ``Secure`` and every answer carries Strict-Transport-Security.
        trusted_proxies: the proxies whose X-Forwarded-For is believed (DESK_TRUSTED_PROXIES);
            none by default, and then the peer's address is the client's.
    """
    app = web.Application(middlewares=[desk_gate], client_max_size=64 * 1024)
    app[SERVICES] = services
    app[SESSIONS] = services.sessions
    app[SECURE_COOKIES] = secure_cookies
    app[TRUSTED_PROXIES] = tuple(trusted_proxies)
    app.on_response_prepare.append(strict_transport)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", home)
    app.router.add_get("/api/tickets", api_tickets)
    app.router.add_get("/api/me", api_me)
    app.router.add_get("/api/report", api_report)
    app.router.add_get("/report", report_view)
    app.router.add_post(r"/api/tickets/{case}/{action:claim|unclaim}", api_claim)
    app.router.add_post(r"/tickets/{case}/{action:claim|unclaim}", page_claim)
    app.router.add_get(r"/tickets/{case}", ticket_view)
    app.router.add_post(r"/tickets/{case}/notes", add_note)
    app.router.add_post(r"/tickets/{case}/lines/{line:\d+}/mark", mark_line)
    app.router.add_post(r"/tickets/{case}/{action:handback|resolve}", hand_back_case)
    app.router.add_post(r"/tickets/{case}/priority", change_priority)
    app.router.add_post(r"/tickets/{case}/reply", reply)
    app.router.add_get("/health", health)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/static/desk.css", stylesheet)
    app.router.add_get("/static/desk.js", script)
    app.router.add_get(r"/api/tickets/{case:\d+}", api_ticket)
    add_training_routes(app)
    add_customer_routes(app)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Serves the desk on loopback (put it behind HTTPS to reach it from elsewhere)."""
    from bot.app_context import build, desk_services
    from bot.desk.canned import CannedRepliesError, load_canned_replies
    from bot.desk.team_channel import TeamChannel
    from bot.handoff.log_redaction import install_log_redaction
    from bot.settings import get_brand, get_settings

    parser = argparse.ArgumentParser(prog="python -m bot.desk.app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    install_log_redaction()
    settings, brand = get_settings(), get_brand()
    try:  # checked before anything else: a reply missing a language stops the desk, clearly
        canned = tuple(load_canned_replies(settings.project_dir / "canned_replies.yml",
                                           brand.languages))
    except CannedRepliesError as error:
        raise SystemExit(f"nightdesk desk: {error}") from None
    services = build(settings)
    app = create_app(desk_services(services, canned),
                     secure_cookies=settings.desk_url.lower().startswith("https://"),
                     trusted_proxies=settings.desk_trusted_proxies)

    async def close_services(_: web.Application):  # noqa: ANN202 - aiohttp's cleanup ctx
        yield
        await services.close()

    app.cleanup_ctx.append(close_services)
    team = TeamChannel(services.engine, services.tickets, settings.team, settings.desk_url)
    if team.targets:
        async def send_transcripts(_: web.Application):  # noqa: ANN202 - aiohttp's cleanup ctx
            task = asyncio.create_task(team.run_forever())
            yield
            task.cancel()

        app.cleanup_ctx.append(send_transcripts)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
