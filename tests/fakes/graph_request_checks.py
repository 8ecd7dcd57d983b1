"""The request checks of the fake Graph API: what Graph refuses, refused the way Graph does.

A request that breaks one of Graph's rules (a missing text, a text over its limit, a malformed
button, attachment or Messenger Profile field) raises :class:`GraphError`, which the fake
answers with Graph's JSON error body and status.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web


class GraphError(Exception):
    """A Graph-style error answer: HTTP status, ``error.code``, message and type."""

    def __init__(
        self,
        message: str,
        code: int = 100,
        status: int = 400,
        error_type: str = "OAuthException",
        subcode: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.error_type = error_type
        self.subcode = subcode

    def response(self) -> web.Response:
        """The JSON answer Graph would give."""
        return web.json_response(self.payload(), status=self.status)

    def payload(self) -> dict[str, Any]:
        """The JSON body of that answer."""
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
            "fbtrace_id": secrets.token_hex(8),
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.status >= 500:
            error["is_transient"] = True
        return {"error": error}


def required_text(value: Any, name: str, limit: int) -> str:
    """A non-empty string of at most `limit` characters, else a Graph 400."""
    if not isinstance(value, str) or not value.strip():
        raise GraphError(f"(#100) The parameter {name} is required")
    if len(value) > limit:
        raise GraphError(f"(#100) Param {name} must be at most {limit} characters long.")
    return value


def json_object(value: Any, name: str) -> dict[str, Any]:
    """A JSON object, else a Graph 400."""
    if not isinstance(value, dict):
        raise GraphError(f"(#100) param {name} must be a JSON object")
    return value


def _check_button(button: Any, name: str) -> None:
    """A Messenger button, else a Graph 400."""
    button = json_object(button, name)
    kind = button.get("type")
    required_text(button.get("title"), f"{name}[title]", 20)
    if kind == "postback":
        required_text(button.get("payload"), f"{name}[payload]", 1000)
    elif kind == "web_url":
        url = required_text(button.get("url"), f"{name}[url]", 2000)
        if not url.startswith(("http://", "https://")):
            raise GraphError(f"(#100) {name}[url] should represent a valid URL")
    elif kind == "phone_number":
        required_text(button.get("payload"), f"{name}[payload]", 1000)
    else:
        raise GraphError(f"(#100) {name}[type] must be one of postback, web_url, phone_number")


def _check_buttons(buttons: Any, name: str, minimum: int) -> None:
    """A list of 1 (or 0) to 3 buttons, else a Graph 400."""
    if buttons is None and minimum == 0:
        return
    if not isinstance(buttons, list) or not minimum <= len(buttons) <= 3:
        raise GraphError(f"(#100) param {name} must have between {minimum} and 3 elements")
    for index, button in enumerate(buttons):
        _check_button(button, f"{name}[{index}]")


def _check_attachment(attachment: Any) -> None:
    """A template or media attachment, else a Graph 400."""
    attachment = json_object(attachment, "message[attachment]")
    kind = attachment.get("type")
    payload = json_object(attachment.get("payload"), "message[attachment][payload]")
    if kind in ("image", "audio", "video", "file"):
        if not payload.get("url") and not payload.get("attachment_id"):
            raise GraphError("(#100) message[attachment][payload] needs a url or attachment_id")
        return
    if kind != "template":
        raise GraphError("(#100) message[attachment][type] is not supported")
    template = payload.get("template_type")
    if template == "button":
        required_text(payload.get("text"), "payload[text]", 640)
        _check_buttons(payload.get("buttons"), "payload[buttons]", 1)
    elif template == "generic":
        elements = payload.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            raise GraphError("(#100) param payload[elements] must have between 1 and 10 elements")
        for index, element in enumerate(elements):
            element = json_object(element, f"payload[elements][{index}]")
            required_text(element.get("title"), f"payload[elements][{index}][title]", 80)
            if "subtitle" in element:
                required_text(element["subtitle"], f"payload[elements][{index}][subtitle]", 80)
            if "image_url" in element and not isinstance(element["image_url"], str):
                raise GraphError(f"(#100) payload[elements][{index}][image_url] must be a URL")
            _check_buttons(element.get("buttons"), f"payload[elements][{index}][buttons]", 0)
    else:
        raise GraphError("(#100) payload[template_type] is not supported")


def check_message(message: Any) -> None:
    """A Send API `message`, else a Graph 400."""
    message = json_object(message, "message")
    has_text, has_attachment = "text" in message, "attachment" in message
    if has_text == has_attachment:
        raise GraphError("(#100) Must send either message text or an attachment")
    if has_text:
        required_text(message["text"], "message[text]", 2000)
    else:
        _check_attachment(message["attachment"])
    replies = message.get("quick_replies")
    if replies is None:
        return
    if not isinstance(replies, list) or not 1 <= len(replies) <= 13:
        raise GraphError("(#100) param message[quick_replies] must have between 1 and 13 elements")
    for index, reply in enumerate(replies):
        reply = json_object(reply, f"message[quick_replies][{index}]")
        if reply.get("content_type", "text") == "text":
            required_text(reply.get("title"), f"message[quick_replies][{index}][title]", 20)
            required_text(reply.get("payload"), f"message[quick_replies][{index}][payload]",
                           1000)
        elif reply.get("content_type") not in ("user_phone_number", "user_email"):
            raise GraphError(f"(#100) message[quick_replies][{index}][content_type] is invalid")


def check_localized(value: Any, name: str) -> list[dict[str, Any]]:
    """A non-empty array of objects with distinct locales, "default" among them."""
    if not isinstance(value, list) or not value:
        raise GraphError(f"(#100) param {name} must be a non-empty array")
    items: list[dict[str, Any]] = []
    locales: set[str] = set()
    for index, item in enumerate(value):
        item = json_object(item, f"{name}[{index}]")
        locale = required_text(item.get("locale"), f"{name}[{index}][locale]", 20)
        if locale in locales:
            raise GraphError(f"(#100) param {name} has the locale {locale} twice")
        locales.add(locale)
        items.append(item)
    if "default" not in locales:
        raise GraphError(f"(#100) param {name} must include the default locale")
    return items


def _check_ice_breaker_questions(questions: Any, name: str) -> None:
    """1 to 4 ice breakers, each a question and a payload, else a Graph 400."""
    if not isinstance(questions, list) or not 1 <= len(questions) <= 4:
        raise GraphError(f"(#100) param {name} must have between 1 and 4 elements")
    for index, question in enumerate(questions):
        question = json_object(question, f"{name}[{index}]")
        required_text(question.get("question"), f"{name}[{index}][question]", 1000)
        required_text(question.get("payload"), f"{name}[{index}][payload]", 1000)


def check_ice_breakers(value: Any) -> None:
    """Ice breakers in the localised format (or the older flat one), else a Graph 400."""
    if not isinstance(value, list) or not value:
        raise GraphError("(#100) param ice_breakers must be a non-empty array")
    localized = ["call_to_actions" in item for item in value if isinstance(item, dict)]
    if any(localized) and not all(localized):
        raise GraphError("(#100) param ice_breakers mixes the localized and the old format")
    if not any(localized):
        _check_ice_breaker_questions(value, "ice_breakers")
        return
    for index, item in enumerate(check_localized(value, "ice_breakers")):
        _check_ice_breaker_questions(item.get("call_to_actions"),
                                     f"ice_breakers[{index}][call_to_actions]")


def check_persistent_menu(value: Any) -> None:
    """A persistent menu per locale: up to 20 postback or web_url items, else a Graph 400."""
    for index, menu in enumerate(check_localized(value, "persistent_menu")):
        name = f"persistent_menu[{index}]"
        disabled = menu.get("composer_input_disabled", False)
        if not isinstance(disabled, bool):
            raise GraphError(f"(#100) param {name}[composer_input_disabled] must be a boolean")
        items = menu.get("call_to_actions")
        if items is None and not disabled:
            continue
        if not isinstance(items, list) or not 1 <= len(items) <= 20:
            raise GraphError(f"(#100) param {name}[call_to_actions] must have between 1 and 20 "
                             "elements")
        for position, item in enumerate(items):
            where = f"{name}[call_to_actions][{position}]"
            item = json_object(item, where)
            required_text(item.get("title"), f"{where}[title]", 30)
            kind = item.get("type")
            if kind == "postback":
                required_text(item.get("payload"), f"{where}[payload]", 1000)
            elif kind == "web_url":
                url = required_text(item.get("url"), f"{where}[url]", 2000)
                if not url.startswith(("http://", "https://")):
                    raise GraphError(f"(#100) {where}[url] should represent a valid URL")
            else:
                raise GraphError(f"(#100) {where}[type] must be one of postback, web_url")


def required_recipient_id(body: dict[str, Any]) -> str:
    """`recipient.id` of a body, else a Graph 400."""
    recipient = json_object(body.get("recipient"), "recipient")
    psid = recipient.get("id")
    if not isinstance(psid, str | int) or not str(psid).strip():
        raise GraphError("(#100) The parameter recipient is required")
    return str(psid)
