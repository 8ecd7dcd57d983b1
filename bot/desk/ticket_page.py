"""The ticket page: the handoff packet first, then the transcript, the order and the notes.

The ticket's language (the conversation's, when it was handed off) shows beside the case
number and in the packet; the canned replies come in that language first.

Everything the customer or the bot wrote is escaped; personal data is shown in full, since
only logged-in agents reach this page.
"""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.desk.canned import CannedReply, offered_first
from bot.desk.claims import Claim
from bot.desk.languages import language_badge, language_label, language_name, language_tag
from bot.desk.notes import MAX_NOTE_LENGTH, Note
from bot.handoff.reasons import Priority
from bot.handoff.tickets import HandoffPacket, Ticket, TranscriptLine
from bot.orders import Order


def time_shown(moment: datetime | None, zone: ZoneInfo) -> str:
    """A moment as the desk shows it, in the brand's time zone."""
    return moment.astimezone(zone).strftime("%a %d %b %H:%M") if moment else "—"


def _row(label: str, value: str) -> str:
    return f"<tr><th>{html.escape(label)}</th><td>{value}</td></tr>"


def _lines(lines: list[TranscriptLine], zone: ZoneInfo) -> str:
    if not lines:
        return "—"
    return "".join(f'<p><span class="when">{time_shown(line.at, zone)}</span> '
                   f"{html.escape(line.text)}</p>" for line in lines)


def packet(ticket: Ticket, handoff: HandoffPacket, claim: Claim | None, zone: ZoneInfo) -> str:
    """What the bot handed over, at the top of the page."""
    intents = ", ".join(f"{html.escape(name)} ({confidence:.2f})"
                        for name, confidence in handoff.intents_seen) or "—"
    order = html.escape(ticket.order_number or "—")
    if handoff.status_told:
        order += f'<p class="told">The bot told them: {html.escape(handoff.status_told)}</p>'
    return (
        f"<h1>Case #{ticket.case_number} {language_badge(ticket.language)}</h1>"
        '<table class="packet">'
        + _row("Reason", html.escape(ticket.reason.value.replace("_", " ")))
        + _row("Priority", f'<span class="{ticket.priority.value}">{ticket.priority.value}</span>')
        + _row("Customer", html.escape(ticket.customer_name or "name unknown"))
        + _row("Language", language_label(ticket.language))
        + _row("Channel", html.escape(ticket.channel))
        + _row("What they wanted", _lines(handoff.wanted, zone))
        + _row("Intents the bot saw", intents)
        + _row("Order", order)
        + _row("What the bot already said", _lines(handoff.bot_said, zone))
        + _row("Opened", time_shown(ticket.created_at, zone))
        + _row("Status", html.escape(ticket.status))
        + _row("Claimed by", html.escape(claim.name) if claim else "nobody yet")
        + "</table>"
    )


def transcript_line(sender: str, text: str, when: str) -> str:
    """One message of the transcript (the same markup as desk.js draws for new ones)."""
    return (f'<li class="line {html.escape(sender)}"><span class="when">{html.escape(when)}'
            f"</span> <strong>{html.escape(sender)}</strong>: {html.escape(text)}</li>")


def transcript(ticket: Ticket, zone: ZoneInfo, csrf_token: str = "",
               marked: frozenset[datetime] = frozenset()) -> str:
    """Every message of the bot and the customer, with its time.

    Each customer message has a button to mark it for the trainers ("the bot should have
    understood this"), or says it was marked. New messages appear by themselves: desk.js asks
    /api/tickets/{case} every few seconds (their buttons come with the next page load).
    """
    def line_html(index: int, line: TranscriptLine) -> str:
        shown = transcript_line(line.sender, line.text, time_shown(line.at, zone))
        if line.sender != "customer" or not csrf_token:
            return shown
        if line.at in marked:
            extra = ' <span class="marked">marked for the trainers</span>'
        else:
            extra = (f' <form class="inline mark" method="post" '
                     f'action="/tickets/{ticket.case_number}/lines/{index}/mark">'
                     f'<input type="hidden" name="csrf_token" value="{html.escape(csrf_token)}">'
                     '<button type="submit" title="The bot should have understood this">'
                     "Mark for training</button></form>")
        return shown.replace("</li>", extra + "</li>")

    lines = "".join(line_html(index, line) for index, line in enumerate(ticket.transcript))
    return (f'<h2>Transcript</h2><ol class="transcript" data-case="{ticket.case_number}" '
            f'data-count="{len(ticket.transcript)}" lang="{html.escape(ticket.language)}">'
            f"{lines}</ol>")


def order_details(ticket: Ticket, order: Order | None, looked_up: bool) -> str:
    """The order from the shop, beside the transcript."""
    if not ticket.order_number:
        return "<h2>Order</h2><p>The customer named no order.</p>"
    if not looked_up:
        return "<h2>Order</h2><p>The shop could not be reached; try again later.</p>"
    if order is None:
        number = html.escape(ticket.order_number)
        return f"<h2>Order</h2><p>The shop has no order {number}.</p>"
    items = "".join(
        f"<li>{item.quantity} × {html.escape(item.name)} {html.escape(item.size or '')}"
        f"{' (shipped)' if item.shipped else ''}</li>"
        for item in order.items
    )
    tracking = (f'<a href="{html.escape(order.tracking_url)}" rel="noopener noreferrer" '
                f'target="_blank">{html.escape(order.tracking_number or "tracking")}</a>'
                if order.tracking_url else "—")
    return (
        f"<h2>Order {html.escape(order.number)}</h2><table class=\"order\">"
        + _row("Status", html.escape(order.status.value.replace("_", " ")))
        + _row("Customer", html.escape(f"{order.customer_first_name}, {order.email}, "
                                       f"{order.postcode}, {order.country}"))
        + _row("Total", html.escape(f"{order.currency} {order.total}"))
        + _row("Carrier", html.escape(order.carrier or "—"))
        + _row("Tracking", tracking)
        + _row("Expected", html.escape(str(order.expected_delivery or "—")))
        + f"</table><ul>{items}</ul>"
    )


def _canned_choices(case_number: int, canned: tuple[CannedReply, ...], language: str) -> str:
    """The canned replies as links, one line per language, the ticket's language first."""
    lines = []
    for code, replies in offered_first(canned, language):
        links = " · ".join(
            f'<a href="/tickets/{case_number}?canned={html.escape(reply.key)}'
            f'&amp;language={html.escape(code)}" lang="{html.escape(code)}">'
            f"{html.escape(reply.title)}</a>"
            for reply in replies
        )
        name = html.escape(language_name(code))
        label = (f"Canned replies in {name}, the customer's language" if code == language
                 else f"In {name}")
        lines.append(f'<p class="canned" data-language="{html.escape(code)}">'
                     f"{language_tag(code)} {label}: {links}</p>")
    return "".join(lines)


def work_panel(
    case_number: int,
    found: list[Note],
    zone: ZoneInfo,
    csrf: str,
    may_work: bool,
    canned: tuple[CannedReply, ...] = (),
    reply_text: str = "",
    language: str = "",
    reply_language: str = "",
) -> str:
    """The notes; for those who work tickets also the reply, note and hand-back forms.

    The canned replies are offered in the ticket's `language` first, then in the other
    languages, each group labelled; `reply_language` is the language of the reply box (the
    chosen canned reply's, else the ticket's).
    """
    listed = "".join(
        f"<li><span class=\"when\">{time_shown(note.at, zone)}</span> "
        f"<strong>{html.escape(note.author)}</strong>: {html.escape(note.text)}</li>"
        for note in found
    ) or "<li>No notes yet.</li>"
    form = (
        f'<form method="post" action="/tickets/{case_number}/notes">'
        f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">'
        f'<textarea name="text" rows="3" maxlength="{MAX_NOTE_LENGTH}" required '
        'aria-label="Private note"></textarea><button type="submit">Add note</button></form>'
        if may_work else ""
    )
    reply_lang = html.escape(reply_language or language)
    reply_form = (
        '<h2>Reply to the customer</h2>' + _canned_choices(case_number, canned, language)
        + f'<form method="post" action="/tickets/{case_number}/reply">'
        f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">'
        '<textarea name="text" rows="4" maxlength="2000" required aria-label="Reply"'
        + (f' lang="{reply_lang}"' if reply_lang else "") + ">"
        f"{html.escape(reply_text)}</textarea><button type=\"submit\">Send reply</button></form>"
        if may_work else ""
    )
    hidden = f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">'
    priorities = "".join(f'<option value="{p.value}">{p.value}</option>' for p in Priority)
    hand_back = (
        f'<h2>Close</h2><form class="inline" method="post" '
        f'action="/tickets/{case_number}/resolve">{hidden}'
        '<button type="submit">Resolve (the bot answers again)</button></form> '
        f'<form class="inline" method="post" action="/tickets/{case_number}/handback">{hidden}'
        '<button type="submit">Hand back unresolved</button></form>'
        f'<h2>Priority</h2><form method="post" action="/tickets/{case_number}/priority">'
        f'{hidden}<select name="priority" aria-label="Priority">{priorities}</select>'
        '<button type="submit">Change</button></form>'
        if may_work else ""
    )
    return f'{reply_form}<h2>Private notes</h2><ul class="notes">{listed}</ul>{form}{hand_back}'
