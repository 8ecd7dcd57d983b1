"""The desk's words: every text its pages and refusals show, in English, keyed by name.

Templates read them as ``t.<key>`` (a text with ``{placeholders}`` is filled with
``.format``); handlers as ``STRINGS.<key>``. Another language is another table with the same
keys. Messages of the domain (a refusal's reason from a store) come as they are.

The texts are the desk's own, trusted: a template shows them as written (a few hold simple
markup, such as ``<code>``), and a value put into one with ``.format`` is escaped; a
handler's text passed to a template as a value is escaped like any other value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from markupsafe import Markup

ENGLISH: dict[str, str] = {
    # every page
    "product": "nightdesk",
    "back": "Back",
    "log_out": "Log out",
    "section_queue": "Open tickets",
    "section_report": "Report",
    "section_training": "Training",
    "section_customers": "Customers' data",
    # logging in
    "log_in_title": "Log in",
    "log_in": "Log in",
    "login_field": "Login",
    "password_field": "Password",
    "form_expired": "The form expired: please log in again.",
    "too_many_attempts": "Too many failed attempts: try again in {minutes} minutes.",
    "wrong_password": "Wrong login or password.",
    # the queue
    "open_tickets": "Open tickets",
    "no_open_tickets": "No open tickets.",
    "column_case": "Case",
    "column_customer": "Customer",
    "column_language": "Language",
    "column_channel": "Channel",
    "column_reason": "Reason",
    "column_priority": "Priority",
    "column_order": "Order",
    "column_waiting": "Waiting",
    "column_reply_by": "Reply by",
    "column_claimed_by": "Claimed by",
    "button_claim": "Claim",
    "button_unclaim": "Unclaim",
    "filter_reason": "reason",
    "filter_priority": "priority",
    "filter_claimed": "claimed",
    "filter_language": "language",
    "filter_any": "any",
    "filter_button": "Filter",
    "waiting_minutes": "{minutes} min",
    "waiting_hours": "{hours} h {minutes:02d} min",
    "waiting_days": "{days} days",
    "channel_dm": "DM",
    "channel_comment": "comment",
    "not_done": "Not done",
    # a ticket
    "case_title": "Case #{case}",
    "case_heading": "Case #{case}",
    "packet_reason": "Reason",
    "packet_priority": "Priority",
    "packet_customer": "Customer",
    "packet_language": "Language",
    "packet_channel": "Channel",
    "packet_wanted": "What they wanted",
    "packet_intents": "Intents the bot saw",
    "packet_order": "Order",
    "packet_bot_said": "What the bot already said",
    "packet_opened": "Opened",
    "packet_status": "Status",
    "packet_claimed_by": "Claimed by",
    "name_unknown": "name unknown",
    "nobody_yet": "nobody yet",
    "bot_told_them": "The bot told them:",
    "transcript": "Transcript",
    "marked_for_trainers": "marked for the trainers",
    "mark_hint": "The bot should have understood this",
    "mark_for_training": "Mark for training",
    "order": "Order",
    "no_order_named": "The customer named no order.",
    "shop_unreachable": "The shop could not be reached; try again later.",
    "shop_has_no_order": "The shop has no order {number}.",
    "order_status": "Status",
    "order_customer": "Customer",
    "order_total": "Total",
    "order_carrier": "Carrier",
    "order_tracking": "Tracking",
    "order_expected": "Expected",
    "tracking": "tracking",
    "item_shipped": " (shipped)",
    "reply_heading": "Reply to the customer",
    "canned_in_customer_language": "Canned replies in {language}, the customer's language",
    "canned_in": "In {language}",
    "reply_box": "Reply",
    "send_reply": "Send reply",
    "private_notes": "Private notes",
    "no_notes": "No notes yet.",
    "note_box": "Private note",
    "add_note": "Add note",
    "close_heading": "Close",
    "resolve": "Resolve (the bot answers again)",
    "hand_back_unresolved": "Hand back unresolved",
    "priority_heading": "Priority",
    "priority_box": "Priority",
    "change": "Change",
    "no_such_case": "no such case",
    "no_case_number": "no case #{case}",
    "not_marked": "Not marked",
    "no_review_inbox": "this desk has no review inbox",
    "only_customer_lines": "only a customer's message can be marked",
    "not_added": "Not added",
    "not_sent": "Not sent",
    "not_sent_because": "Not sent: {reason}",
    "not_changed": "Not changed",
    "unknown_priority": "unknown priority {chosen!r}",
    "not_handed_back": "Not handed back",
    "not_handed_back_because": "Not handed back: {reason}",
    # the report
    "report_title": "Report",
    "report_heading": "Morning report",
    "no_report": "No report on this desk.",
    "no_report_json": "no report on this desk",
    "yesterday": "Yesterday",
    "today": "Today",
    "day": "Day",
    "show": "Show",
    "figures_as_json": "These figures as JSON",
    "after_hours": "After hours",
    "office_hours": "Office hours",
    "all_hours": "All",
    "customer_messages": "Customer messages",
    "messages": "Messages",
    "answered": "Answered",
    "bot_first_answer_avg": "Bot's first answer (avg)",
    "median": "(median)",
    "not_understood": "Not understood",
    "conversations_and_people": "Conversations and people",
    "conversations": "Conversations",
    "needed_a_person": "Needed a person",
    "settled_by_bot": "Settled by the bot alone",
    "tickets_opened": "Tickets opened",
    "person_first_reply_avg": "A person's first reply after the handoff (avg)",
    "resolution_avg": "Time to resolution (avg)",
    "replies_to_resolution_avg": "Replies to resolution (avg)",
    "missed_24h_window": "Tickets that missed the 24 h window",
    "retention_erased": "Old conversations erased (retention)",
    "by_language": "By language",
    "tickets": "Tickets",
    "top_intents": "Top intents",
    "intent": "Intent",
    "none": "None",
    # training
    "training_title": "Training",
    "training_heading": "Training",
    "training_intro": "{count} message(s) the bot handled badly, in {groups} group(s), biggest "
                      "first. Then train a candidate with <code>nightdesk train</code>, check it "
                      "with <code>nightdesk gate</code> and put it live with "
                      "<code>nightdesk promote</code>.",
    "inbox_empty": "The review inbox is empty.",
    "group_like": "{count} like",
    "in_language": "in {language}",
    "read_as": "read as",
    "not_read_by_model": "not read by the model",
    "dismiss": "Dismiss",
    "add_to_intent": "Add to intent",
    "own_wordings": "and wordings of your own (one per line), in",
    "add": "Add",
    "new_intent": "New intent",
    "answer_in": "The bot answers in {language} (one wording per line)",
    "or_hand_off": "or hands these to a person",
    "create_intent": "Create intent",
    "dismiss_group": "Dismiss the group as noise",
    "back_to_training": "Back to training",
    "no_training_data": "this desk has no training data",
    "decided_meanwhile": "these messages were decided meanwhile, or never were in the inbox: "
                         "reload the page",
    "dismissed": "Dismissed {count} message(s).",
    "labelled": "{count} message(s){mine} labelled {intent}: {summary}.",
    "own_wordings_count": " and {count} wording(s) of your own",
    "split_summary": "{training} to training, {test} to the test file, {duplicates} already "
                     "known, in {language}",
    "nothing_new": "nothing new",
    # customers' data
    "customers_title": "Customers' data",
    "export_heading": "Export",
    "export_intro": "Everything held about a person, as one JSON file: conversations, tickets "
                    "and transcripts, notes, Messenger and web chat messages, proofs, "
                    "deliveries.",
    "export_button": "Export",
    "erase_heading": "Erase",
    "erase_intro": "Deletes all of it, everywhere, at once. It cannot be undone.",
    "erase_button": "Erase everything",
    "subject_id": "PSID, web chat id, e-mail or order number",
    "subject_id_again": "the same id again, to confirm",
    "subject_kind": "which is",
    "kind_from_id": "told from the id",
    "no_requests_yet": "No export or erasure yet.",
    "latest_requests": "Latest requests (the audit keeps the id's SHA-256, never the id)",
    "column_when": "When",
    "column_who": "Who",
    "column_what": "What",
    "column_kind": "Kind",
    "column_id_hash": "Id hash",
    "column_conversations": "Conversations",
    "no_customer_data": "this desk has no customer data store",
    "not_exported": "Not exported",
    "not_exported_because": "Not exported: {reason}",
    "not_erased": "Not erased",
    "not_erased_because": "Not erased: {reason}",
    "ids_differ": "Not erased: the two ids differ",
    "erased_title": "Erased",
    "erased_one": "Erased {count} conversation ({rows} rows).",
    "erased_many": "Erased {count} conversations ({rows} rows).",
    "nothing_held": "Nothing was held about that id; the request is audited.",
}


class Strings(Mapping[str, str]):
    """A table of the desk's texts, read as ``strings.key`` or ``strings["key"]``.

    A key the table lacks is an error at once (AttributeError, KeyError), not an empty text.
    """

    def __init__(self, texts: Mapping[str, str]) -> None:
        """Wraps `texts` (key to text)."""
        self._texts = dict(texts)

    def __getitem__(self, key: str) -> str:
        """The text of `key`."""
        return self._texts[key]

    def __getattr__(self, key: str) -> str:
        """The text of `key`, as an attribute."""
        try:
            return self._texts[key]
        except KeyError:
            raise AttributeError(f"the desk has no text {key!r}") from None

    def __iter__(self) -> Iterator[str]:
        """The keys."""
        return iter(self._texts)

    def __len__(self) -> int:
        """How many texts."""
        return len(self._texts)

    def as_markup(self) -> Strings:
        """The same texts for templates: shown as written, values put in with .format escaped."""
        return Strings({key: Markup(text) for key, text in self._texts.items()})


STRINGS = Strings(ENGLISH)
"""The desk's texts in English, the only language it speaks for now."""
