"""A ticket: its page, its actions and ``/api/tickets/{case}``.

The page shows the packet, the transcript, the order, the notes and the reply with canned
replies; the actions add a note, reply, change the priority, resolve or hand back, and mark a
customer's message for the trainers.

The ticket's language (the conversation's, when it was handed off) shows beside the case
number and in the packet; the canned replies come in that language first. Personal data is
shown in full, since only logged-in agents reach this page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from bot.desk.canned import offered_first, pick
from bot.desk.claims import Claim
from bot.desk.notes import MAX_NOTE_LENGTH, Note, NoteError
from bot.desk.roles import Permission
from bot.desk.services import DeskServices
from bot.desk.web.blocking import run_blocking
from bot.desk.web.formatting import time_shown
from bot.desk.web.gate import session_of
from bot.desk.web.rendering import page, refused
from bot.desk.web.request_data import case_of, services_of, ticket_or_404
from bot.desk.web.strings import STRINGS
from bot.handoff.reasons import Priority
from bot.handoff.tickets import HandoffPacket, Ticket, TicketError
from bot.orders import Order, OrderLookupError


@dataclass(frozen=True)
class _Held:
    """What the desk holds beside a ticket: the packet, the claim, the notes, the marks."""

    handoff: HandoffPacket
    claim: Claim | None
    notes: list[Note]
    marked: frozenset[datetime]


def _held(services: DeskServices, ticket: Ticket) -> _Held:
    """Reads what the ticket's page shows beside the ticket (blocking)."""
    review = services.review
    return _Held(
        handoff=services.tickets.packet(ticket),
        claim=services.claims.holder(ticket.case_number),
        notes=services.notes.for_ticket(ticket.case_number),
        marked=review.marked_times(ticket.conversation_id) if review else frozenset(),
    )


async def _order_for(services: DeskServices, ticket: Ticket) -> tuple[Order | None, bool]:
    """The ticket's order from the shop, and whether the shop answered."""
    if not ticket.order_number:
        return None, True
    try:
        return await services.orders.get_order(ticket.order_number), True
    except OrderLookupError:
        return None, False


async def ticket_view(request: web.Request) -> web.Response:
    """One ticket: the packet, the transcript, the order, the private notes."""
    session = session_of(request)
    services = services_of(request)
    ticket = await ticket_or_404(request)
    order, looked_up = await _order_for(services, ticket)
    chosen = pick(services.canned, request.query.get("canned"),
                  request.query.get("language") or ticket.language)
    reply_text = chosen.filled({
        "first_name": ticket.customer_name, "order_number": ticket.order_number,
        "tracking_url": order.tracking_url if order else None,
        "agent_name": session.agent.first_name,
    }) if chosen else ""
    held = await run_blocking(_held, services, ticket)
    return page(
        request, "ticket.html", title=STRINGS.case_title.format(case=ticket.case_number),
        ticket=ticket, zone=services.zone, handoff=held.handoff, claim=held.claim,
        mark_token=session.csrf_token if services.review else "", marked=held.marked,
        order=order, looked_up=looked_up, notes=held.notes, csrf_token=session.csrf_token,
        may_work=session.agent.role.may(Permission.WORK_TICKETS),
        canned_groups=offered_first(services.canned, ticket.language), reply_text=reply_text,
        reply_language=(chosen.language if chosen else "") or ticket.language,
        priorities=[priority.value for priority in Priority], max_note_length=MAX_NOTE_LENGTH,
    )


async def mark_line(request: web.Request) -> web.Response:
    """Marks a customer message for the trainers: "the bot should have understood this"."""
    ticket = await ticket_or_404(request)
    review = services_of(request).review
    index = int(request.match_info["line"])
    back = f"/tickets/{ticket.case_number}"
    if review is None:
        return refused(request, STRINGS.not_marked, STRINGS.no_review_inbox, back, 404)
    if index >= len(ticket.transcript) or ticket.transcript[index].sender != "customer":
        return refused(request, STRINGS.not_marked, STRINGS.only_customer_lines, back, 400)
    line = ticket.transcript[index]
    agent = session_of(request).agent
    await run_blocking(review.mark, ticket.conversation_id, line.at, line.text, by=agent.login,
                       case_number=ticket.case_number, line=index)
    raise web.HTTPFound(back)


async def add_note(request: web.Request) -> web.Response:
    """The note form: back to the ticket, or the reason the note was refused."""
    ticket = await ticket_or_404(request)
    form = await request.post()
    try:
        await run_blocking(services_of(request).notes.add, ticket.case_number,
                           session_of(request).agent, str(form.get("text") or ""))
    except NoteError as error:
        return refused(request, STRINGS.not_added, str(error),
                       f"/tickets/{ticket.case_number}", 400)
    raise web.HTTPFound(f"/tickets/{ticket.case_number}")


async def reply(request: web.Request) -> web.Response:
    """Sends the agent's reply to the customer; back to the ticket, or why it was not sent."""
    from bot.desk.replies import ReplyRefused

    agent = session_of(request).agent
    ticket = await ticket_or_404(request)
    text = str((await request.post()).get("text") or "")
    try:
        await services_of(request).send_reply(ticket, agent, text)
    except ReplyRefused as error:
        return refused(request, STRINGS.not_sent, STRINGS.not_sent_because.format(reason=error),
                       f"/tickets/{ticket.case_number}", 409)
    await run_blocking(services_of(request).agents.audit.record, agent.login, "ticket.reply",
                       f"ticket:{ticket.case_number}", {"characters": len(text.strip())})
    raise web.HTTPFound(f"/tickets/{ticket.case_number}")


async def change_priority(request: web.Request) -> web.Response:
    """Moves a ticket up or down the queue."""
    agent = session_of(request).agent
    ticket = await ticket_or_404(request)
    chosen = str((await request.post()).get("priority") or "")
    try:
        priority = Priority(chosen)
        await run_blocking(services_of(request).tickets.set_priority, ticket.case_number,
                           priority, by=agent.login)
    except (ValueError, TicketError) as error:
        reason = (STRINGS.unknown_priority.format(chosen=chosen)
                  if not isinstance(error, TicketError) else error)
        return refused(request, STRINGS.not_changed, str(reason),
                       f"/tickets/{ticket.case_number}", 400)
    raise web.HTTPFound(f"/tickets/{ticket.case_number}")


async def hand_back_case(request: web.Request) -> web.Response:
    """Gives the case back to the bot, settled ("resolve") or not ("handback").

    On Messenger thread control is taken back first.
    """
    from bot.messenger.hand_back import HandBackError

    agent = session_of(request).agent
    case = case_of(request)
    resolved = request.match_info["action"] == "resolve"
    try:
        await services_of(request).hand_back(case, agent.login, resolved=resolved)
    except HandBackError as error:
        return refused(request, STRINGS.not_handed_back,
                       STRINGS.not_handed_back_because.format(reason=error), f"/tickets/{case}",
                       409)
    await run_blocking(services_of(request).claims.release, case)
    raise web.HTTPFound("/")


async def api_ticket(request: web.Request) -> web.Response:
    """One ticket with its whole transcript, times as the desk shows them."""
    ticket = await ticket_or_404(request)
    zone = services_of(request).zone
    claim = await run_blocking(services_of(request).claims.holder, ticket.case_number)
    return web.json_response({
        "case_number": ticket.case_number,
        "status": ticket.status,
        "language": ticket.language,
        "priority": ticket.priority.value,
        "reason": ticket.reason.value,
        "claimed_by": claim.login if claim else None,
        "transcript": [
            {"sender": line.sender, "text": line.text, "at": line.at.isoformat(),
             "when": time_shown(line.at, zone)}
            for line in ticket.transcript
        ],
    })
