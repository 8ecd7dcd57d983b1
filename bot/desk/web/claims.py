"""Claiming and unclaiming a ticket: the queue's buttons and the API."""

from __future__ import annotations

from aiohttp import web

from bot.desk.claims import ClaimError
from bot.desk.roles import Permission
from bot.desk.web.blocking import run_blocking
from bot.desk.web.gate import session_of
from bot.desk.web.rendering import refused
from bot.desk.web.request_data import case_of, services_of
from bot.desk.web.strings import STRINGS


async def _change_claim(request: web.Request) -> str | None:
    """Claims or unclaims the request's case for its agent; the refusal, if any."""
    agent = session_of(request).agent
    book = services_of(request).claims
    case = case_of(request)
    try:
        if request.match_info["action"] == "claim":
            await run_blocking(book.claim, case, agent)
        else:
            await run_blocking(book.unclaim, case, agent,
                               force=agent.role.may(Permission.MANAGE_AGENTS))
    except ClaimError as error:
        return str(error)
    return None


async def api_claim(request: web.Request) -> web.Response:
    """POST /api/tickets/{case}/claim or /unclaim: 200, or 409 with the reason."""
    refusal = await _change_claim(request)
    if refusal is not None:
        return web.json_response({"error": refusal}, status=409)
    holder = await run_blocking(services_of(request).claims.holder, case_of(request))
    return web.json_response({"case_number": case_of(request),
                              "claimed_by": holder.login if holder else None})


async def page_claim(request: web.Request) -> web.Response:
    """The queue's Claim / Unclaim buttons: back to the queue, or the reason it was refused."""
    refusal = await _change_claim(request)
    if refusal is not None:
        return refused(request, STRINGS.not_done, refusal, "/", 409)
    raise web.HTTPFound("/")
