from __future__ import annotations

import asyncio
import json
import logging
import socket
import urllib.request

import aiohttp
import pytest

from bot.messenger.graph_answers import SentMessage
from bot.messenger.graph_client import GraphClient
from bot.messenger.graph_errors import GraphSendError
from bot.messenger.graph_limits import PAGE_INBOX_APP_ID
from bot.messenger.message_text import split_text
from tests.fakes.fake_graph import FakeGraphApi
from tests.fakes.fake_graph_server import FakeGraphServer

TOKEN = "page-token-123"
PSID = "6543219876543210"
SENTENCE = "Your parcel left our warehouse in Milan this morning and is on its way to you. "


def _run(scenario, api: FakeGraphApi | None = None, **options):
    """Runs `scenario(client, api)` with a real GraphClient against the fake on loopback."""
    api = api or FakeGraphApi(TOKEN)
    settings = {"backoff_seconds": 0.01, "timeout_seconds": 2.0, **options}

    async def main():
        async with FakeGraphServer(api) as base_url:
            client = GraphClient(base_url, settings.pop("token", TOKEN), **settings)
            try:
                return await scenario(client, api)
            finally:
                await client.close()

    return asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ splitting


def test_split_text_keeps_short_texts_whole_and_cuts_long_ones_at_sentences():
    assert split_text("Hello!") == ["Hello!"]
    assert split_text("x" * 2000) == ["x" * 2000]
    text = (SENTENCE * 60).strip()
    parts = split_text(text)
    assert len(parts) == 3
    assert all(len(part) <= 2000 and part.endswith(".") for part in parts)
    assert " ".join(parts) == text


def test_split_text_prefers_paragraphs_then_words_and_cuts_hard_only_without_spaces():
    text = "a" * 1500 + ".\n\n" + "b " * 600
    assert split_text(text)[0] == "a" * 1500 + "."
    words = " ".join(["word"] * 900)
    assert all(set(part.split()) == {"word"} for part in split_text(words))
    assert [len(p) for p in split_text("z" * 4500)] == [2000, 2000, 500]
    with pytest.raises(ValueError):
        split_text("   ")


# ------------------------------------------------------------------ Send API


def test_short_text_is_one_send_api_call_with_the_real_shape():
    async def scenario(client, api):
        return await client.send_text(PSID, "Hi Anna, your order is on its way.")

    api = FakeGraphApi(TOKEN)
    ids = _run(scenario, api)
    [call] = api.calls
    assert (call.method, call.path, call.query) == (
        "POST", "/v19.0/me/messages", {"access_token": TOKEN})
    assert call.json == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hi Anna, your order is on its way."},
    }
    assert ids == [call.response["message_id"]] and call.response["recipient_id"] == PSID


def test_long_text_is_sent_as_several_messages_with_quick_replies_only_on_the_last():
    text = (SENTENCE * 60).strip()
    replies = [(f"Option number {n} with a long title", f"/choose{{\"n\":{n}}}" + "p" * 1200)
               for n in range(15)]

    async def scenario(client, api):
        return await client.send_text(PSID, text, quick_replies=replies)

    api = FakeGraphApi(TOKEN)
    ids = _run(scenario, api)
    bodies = api.sent_messages()
    assert len(ids) == len(bodies) == 3 and len(set(ids)) == 3
    assert " ".join(api.sent_texts()) == text
    assert all("quick_replies" not in body["message"] for body in bodies[:2])
    sent = bodies[-1]["message"]["quick_replies"]
    assert len(sent) == 13
    assert all(r["content_type"] == "text" and len(r["title"]) <= 20 for r in sent)
    assert sent[0]["title"] == "Option number 0…"
    assert all(len(r["payload"]) == 1000 for r in sent)
    assert sent[12]["payload"].startswith('/choose{"n":12}')


def test_human_agent_tag_makes_a_message_tag_send():
    async def scenario(client, api):
        await client.send_text(PSID, "Sorry for the wait, this is Marta.", tag="HUMAN_AGENT")

    api = FakeGraphApi(TOKEN)
    _run(scenario, api)
    body = api.calls[0].json
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_button_template_and_its_limits():
    buttons = [
        {"type": "postback", "title": "Talk to a person right now", "payload": "/handoff"},
        {"type": "web_url", "title": "Track", "url": "https://track.example/1"},
    ]

    async def scenario(client, api):
        message_id = await client.send_buttons(PSID, "word " * 200, buttons)
        with pytest.raises(ValueError):
            await client.send_buttons(PSID, "Too many", buttons * 2)
        return message_id

    api = FakeGraphApi(TOKEN)
    message_id = _run(scenario, api)
    [call] = api.calls
    assert message_id == call.response["message_id"]
    payload = call.json["message"]["attachment"]["payload"]
    assert call.json["message"]["attachment"]["type"] == "template"
    assert payload["template_type"] == "button"
    assert len(payload["text"]) <= 640 and payload["text"].endswith("…")
    assert payload["buttons"][0] == {
        "type": "postback", "title": "Talk to a person…", "payload": "/handoff"}
    assert payload["buttons"][1] == buttons[1]


def test_order_card_is_a_generic_template_with_one_tracking_button():
    async def scenario(client, api):
        return await client.send_order_card(
            PSID, "Order 20001", "Shipped with DHL, arrives Tuesday",
            "https://shop.example/sneakers.jpg", "https://www.dhl.com/track?id=1",
        )

    api = FakeGraphApi(TOKEN)
    _run(scenario, api)
    payload = api.calls[0].json["message"]["attachment"]["payload"]
    assert payload == {
        "template_type": "generic",
        "elements": [{
            "title": "Order 20001",
            "subtitle": "Shipped with DHL, arrives Tuesday",
            "image_url": "https://shop.example/sneakers.jpg",
            "buttons": [{"type": "web_url", "url": "https://www.dhl.com/track?id=1",
                         "title": "Track order"}],
        }],
    }


def test_sender_actions():
    async def scenario(client, api):
        for action in ("mark_seen", "typing_on", "typing_off"):
            await client.sender_action(PSID, action)
        with pytest.raises(ValueError):
            await client.sender_action(PSID, "dance")

    api = FakeGraphApi(TOKEN)
    _run(scenario, api)
    assert [c.json for c in api.calls] == [
        {"recipient": {"id": PSID}, "sender_action": a}
        for a in ("mark_seen", "typing_on", "typing_off")
    ]
    assert all(c.status == 200 and c.response == {"recipient_id": PSID} for c in api.calls)
    assert api.sent_messages() == []


# ------------------------------------------------------------------ comments


def test_private_reply_answers_the_comment_once():
    async def scenario(client, api):
        sent = await client.private_reply("1234_5678", "Hi! We've got your question.")
        with pytest.raises(GraphSendError) as second:
            await client.private_reply("1234_5678", "Again")
        return sent, second.value

    api = FakeGraphApi(TOKEN)
    sent, error = _run(scenario, api)
    assert isinstance(sent, SentMessage) and sent.recipient_id.isdigit() and sent.message_id
    assert api.calls[0].json == {
        "recipient": {"comment_id": "1234_5678"},
        "message": {"text": "Hi! We've got your question."},
    }
    assert (error.status, error.code, error.attempts) == (400, 10900, 1)
    assert len(api.calls) == 2


def test_public_reply_posts_to_the_comment_edge():
    async def scenario(client, api):
        return await client.public_reply("1234_5678", "Hi Anna, we've sent you a private message")

    api = FakeGraphApi(TOKEN)
    reply_id = _run(scenario, api)
    [call] = api.calls
    assert (call.method, call.path) == ("POST", "/v19.0/1234_5678/comments")
    assert call.json == {"message": "Hi Anna, we've sent you a private message"}
    assert reply_id == call.response["id"] and reply_id.startswith("1234_5678_")


# ------------------------------------------------------------------ profile


def test_user_profile_is_fetched_once_and_cached():
    api = FakeGraphApi(TOKEN, profiles={PSID: {"first_name": "Anna", "last_name": "Rossi",
                                              "profile_pic": "https://pic.example/a.jpg"}})

    async def scenario(client, api):
        first = await client.user_profile(PSID)
        first["first_name"] = "changed by the caller"
        second = await client.user_profile(PSID)
        other = await client.user_profile("111222333444")
        return second, other

    profile, other = _run(scenario, api)
    assert profile == {"first_name": "Anna", "last_name": "Rossi",
                       "profile_pic": "https://pic.example/a.jpg", "id": PSID}
    assert other["first_name"] == "Alex"
    assert [c.path for c in api.calls] == [f"/v19.0/{PSID}", "/v19.0/111222333444"]
    assert api.calls[0].method == "GET"
    assert api.calls[0].query == {"fields": "first_name,last_name,profile_pic",
                                  "access_token": TOKEN}


def test_profile_cache_expires_and_errors_are_not_cached():
    api = FakeGraphApi(TOKEN, default_profile=None, profiles={PSID: {"first_name": "Anna"}})

    async def scenario(client, api):
        await client.user_profile(PSID)
        await client.user_profile(PSID)
        for _ in range(2):
            with pytest.raises(GraphSendError) as error:
                await client.user_profile("999888777666")
        return error.value

    error = _run(scenario, api, profile_ttl_seconds=0)
    assert len(api.calls) == 4
    assert (error.status, error.code, error.subcode) == (400, 100, 33)
    assert "999888777666" not in str(error)


# ------------------------------------------------------------------ thread control, profile


def test_thread_control_and_messenger_profile_bodies():
    profile = {
        "get_started": {"payload": "/get_started"},
        "greeting": [{"locale": "default", "text": "Hi! I'm the automated assistant."}],
        "persistent_menu": [{"locale": "default", "composer_input_disabled": False,
                             "call_to_actions": [{"type": "postback", "title": "Talk to a person",
                                                  "payload": "/handoff"}]}],
    }

    async def scenario(client, api):
        passed = await client.pass_thread_control(PSID, PAGE_INBOX_APP_ID, "handoff: complaint")
        taken = await client.take_thread_control(PSID)
        await client.set_messenger_profile(profile)
        with pytest.raises(ValueError):
            await client.set_messenger_profile({})
        return passed, taken

    api = FakeGraphApi(TOKEN)
    assert _run(scenario, api) == (True, True)
    assert [(c.method, c.path) for c in api.calls] == [
        ("POST", "/v19.0/me/pass_thread_control"),
        ("POST", "/v19.0/me/take_thread_control"),
        ("POST", "/v19.0/me/messenger_profile"),
    ]
    assert api.calls[0].json == {"recipient": {"id": PSID}, "target_app_id": 263902037430900,
                                 "metadata": "handoff: complaint"}
    assert api.calls[1].json == {"recipient": {"id": PSID}}
    assert api.calls[2].json == profile and api.calls[2].response == {"result": "success"}
    assert api.messenger_profile == profile and api.thread_owners == {PSID: "page"}


# ------------------------------------------------------------------ retries


def test_retries_on_5xx_then_succeeds():
    async def scenario(client, api):
        api.fail_next(2, 500)
        api.fail_next(1, 503)
        return await client.send_text(PSID, "Hello")

    api = FakeGraphApi(TOKEN)
    ids = _run(scenario, api)
    posts = api.calls_to("me/messages", "POST")
    assert [c.status for c in posts] == [500, 500, 503, 200]
    assert ids == [posts[-1].response["message_id"]]
    assert posts[0].response["error"]["code"] == 1
    assert all(c.json == posts[0].json for c in posts)
    # a 5xx may hide a delivered message: each one is followed by a check (the page id once)
    assert len(api.calls_to("me/conversations", "GET")) == 3
    assert len(api.calls_to("me", "GET")) == 1
    assert api.sent_texts() == ["Hello"]


@pytest.mark.parametrize(("status", "code"), [(429, None), (400, 613), (400, 4), (403, 32),
                                              (400, 17)])
def test_retries_on_rate_limits(status, code):
    async def scenario(client, api):
        api.fail_next(2, status, code=code)
        return await client.sender_action(PSID, "typing_on")

    api = FakeGraphApi(TOKEN)
    _run(scenario, api)
    assert [c.status for c in api.calls] == [status, status, 200]


@pytest.mark.parametrize(("status", "code"), [(400, 100), (403, 10), (404, 803)])
def test_never_retries_other_client_errors(status, code):
    async def scenario(client, api):
        api.fail_next(3, status, code=code)
        with pytest.raises(GraphSendError) as error:
            await client.send_text(PSID, "Hello")
        return error.value

    api = FakeGraphApi(TOKEN)
    error = _run(scenario, api)
    assert len(api.calls) == 1
    assert (error.status, error.code, error.attempts, error.rate_limited) == (
        status, code, 1, False)


def test_bad_token_is_not_retried():
    async def scenario(client, api):
        with pytest.raises(GraphSendError) as error:
            await client.send_text(PSID, "Hello")
        return error.value

    api = FakeGraphApi(TOKEN)
    error = _run(scenario, api, token="wrong-token")
    assert (error.status, error.code, len(api.calls)) == (400, 190, 1)
    assert "wrong-token" not in str(error)


def test_gives_up_after_max_attempts_without_personal_data(caplog):
    text = "My address is Via Roma 12, Milano and my phone is 333 1234567"
    leaky = f"Failed to deliver '{text}' to {PSID} using {TOKEN}"

    async def scenario(client, api):
        api.fail_next(10, 500, message=leaky)
        with pytest.raises(GraphSendError) as error:
            await client.send_text(PSID, text)
        return error.value

    api = FakeGraphApi(TOKEN)
    with caplog.at_level(logging.DEBUG, logger="bot.messenger"):
        error = _run(scenario, api)
    assert len(api.calls_to("me/messages", "POST")) == 4
    assert (error.status, error.code, error.attempts, error.operation) == (500, 1, 4, "send")
    assert "failed after 4 attempts" in str(error)
    assert "HTTP 500, error code 1: Failed to deliver '<redacted>'" in str(error)
    client_logs = [r for r in caplog.records if r.name == "bot.messenger.graph_http"]
    assert [r.levelname for r in client_logs if r.levelno >= logging.WARNING] == (
        ["WARNING"] * 3 + ["ERROR"])
    assert sum("did not land" in r.getMessage() for r in client_logs) == 4
    for output in (str(error), error.message, caplog.text):
        assert PSID not in output and TOKEN not in output
        assert "Via Roma" not in output and "1234567" not in output


def test_a_failed_part_reports_the_parts_already_sent():
    async def scenario(client, api):
        api.fail_next(1, None)  # the first part goes through untouched
        api.fail_next(5, 503)
        with pytest.raises(GraphSendError) as error:
            await client.send_text(PSID, (SENTENCE * 40).strip())
        return error.value

    api = FakeGraphApi(TOKEN)
    error = _run(scenario, api, max_attempts=3)
    posts = api.calls_to("me/messages", "POST")
    assert error.sent_message_ids == [posts[0].response["message_id"]]
    assert error.status == 503 and len(posts) == 4


def test_timeout_of_an_idempotent_call_is_retried_without_a_check_and_then_reported():
    async def scenario(client, api):
        api.fail_next(1, None, delay=0.5)
        await client.sender_action(PSID, "mark_seen")
        api.fail_next(2, None, delay=0.5)
        with pytest.raises(GraphSendError) as error:
            await client.sender_action(PSID, "typing_on")
        return error.value

    api = FakeGraphApi(TOKEN)
    error = _run(scenario, api, timeout_seconds=0.2, max_attempts=2)
    assert [c.method for c in api.calls] == ["POST"] * 4
    assert (error.status, error.code, error.attempts) == (None, None, 2)
    assert "timed out: no answer within 0.2 s" in str(error)


def test_connection_errors_are_retried_then_reported():
    async def main():
        client = GraphClient(f"http://127.0.0.1:{_free_port()}", TOKEN, max_attempts=3,
                             backoff_seconds=0.01)
        try:
            with pytest.raises(GraphSendError) as error:
                await client.send_text(PSID, "Hello")
            return error.value
        finally:
            await client.close()

    error = asyncio.run(main())
    assert (error.status, error.attempts) == (None, 3)
    assert "connection failed (ClientConnectorError): Cannot connect to host" in str(error)
    assert TOKEN not in str(error)


def test_backoff_doubles_with_jitter_and_is_capped():
    client = GraphClient("http://127.0.0.1:1", TOKEN, backoff_seconds=0.5, max_backoff_seconds=3)
    for attempt, base in ((1, 0.5), (2, 1.0), (3, 2.0)):
        delays = [client.backoff_delay(attempt) for _ in range(50)]
        assert all(base <= d <= base * 1.5 for d in delays) and len(set(delays)) > 1
    assert client.backoff_delay(10) == 3


# ------------------------------------------- retries of non-idempotent calls: did it land?
#
# The fake carries a call out and answers only after the client's 0.2 s timeout
# (`applied=True`), or answers late without carrying anything out (a delayed 503), so the
# client cannot tell the two apart from the failure alone and has to check.

COMMENT = "104857293746251_998877665544"
REPLY = "Hi Anna, we've sent you a private message with the details"
LANDED_LATE = {"status": None, "delay": 0.5, "applied": True}
QUICK = {"timeout_seconds": 0.2, "max_attempts": 3}


def _private_replies(api: FakeGraphApi, comment_id: str = COMMENT) -> list[str]:
    return [m["message"]["text"] for m in api.sent_messages()
            if m["recipient"].get("comment_id") == comment_id]


def _no_personal_data(*outputs: str) -> None:
    for output in outputs:
        for personal in (PSID, COMMENT, REPLY, TOKEN, "your parcel", "hello"):
            assert personal.lower() not in output.lower()


def test_public_reply_that_timed_out_but_landed_is_posted_once_and_returns_its_id(caplog):
    async def scenario(client, api):
        api.fail_next(1, **LANDED_LATE)
        return await client.public_reply(COMMENT, REPLY)

    api = FakeGraphApi(TOKEN)
    with caplog.at_level(logging.DEBUG, logger="bot.messenger"):
        reply_id = _run(scenario, api, **QUICK)
    [post] = api.calls_to(f"{COMMENT}/comments", "POST")
    assert post.applied and reply_id == post.response["id"]
    assert api.comment_replies(COMMENT) == [REPLY]
    [check] = api.calls_to(f"{COMMENT}/comments", "GET")
    assert check.query["fields"] == "from,message,created_time"
    assert check.query["order"] == "reverse_chronological"
    assert check.response["data"][0]["from"] == {"name": api.page_name, "id": api.page_id}
    [page] = api.calls_to("me", "GET")
    assert page.query["fields"] == "id" and page.response == {"id": api.page_id}
    assert "had landed although" in caplog.text and "timed out" in caplog.text
    _no_personal_data(caplog.text)


def test_private_reply_that_timed_out_but_landed_is_not_an_error_and_not_sent_twice(caplog):
    async def scenario(client, api):
        api.fail_next(1, **LANDED_LATE)
        return await client.private_reply(COMMENT, REPLY)

    api = FakeGraphApi(TOKEN)
    with caplog.at_level(logging.DEBUG, logger="bot.messenger"):
        sent = _run(scenario, api, **QUICK)
    assert sent == SentMessage("", "")  # Graph's "already replied" does not repeat the ids
    assert _private_replies(api) == [REPLY]
    first, second = api.calls_to("me/messages", "POST")
    assert first.applied and first.status == 200
    assert (second.status, second.response["error"]["code"]) == (400, 10900)
    assert [c for c in api.calls if c.method == "GET"] == []  # the retry is the check
    assert "an earlier attempt had landed" in caplog.text
    assert "error code 10900: (#<id>) Activity already replied to" in caplog.text
    _no_personal_data(caplog.text)


@pytest.mark.parametrize("page_id_known", [False, True])
def test_send_api_text_that_timed_out_but_landed_is_delivered_once(page_id_known, caplog):
    text = "Your parcel left our warehouse this morning."

    async def scenario(client, api):
        api.fail_next(1, **LANDED_LATE)
        return await client.send_text(PSID, text)

    api = FakeGraphApi(TOKEN)
    options = {"page_id": api.page_id} if page_id_known else {}
    with caplog.at_level(logging.DEBUG, logger="bot.messenger"):
        ids = _run(scenario, api, **QUICK, **options)
    [post] = api.calls_to("me/messages", "POST")
    assert ids == [post.response["message_id"]] and api.sent_texts() == [text]
    [check] = api.calls_to("me/conversations", "GET")
    assert check.query["user_id"] == PSID and check.query["platform"] == "messenger"
    assert check.query["fields"] == "messages.limit(10){id,message,from,created_time}"
    [conversation] = check.response["data"]
    assert conversation["messages"]["data"][0]["message"] == text
    assert len(api.calls_to("me", "GET")) == (0 if page_id_known else 1)
    _no_personal_data(caplog.text)


def test_a_5xx_after_the_message_was_delivered_is_checked_too():
    async def scenario(client, api):
        api.fail_next(1, 500, applied=True)
        return await client.send_buttons(PSID, "Pick one", [
            {"type": "postback", "title": "Talk to a person", "payload": "/handoff"}])

    async def text_scenario(client, api):
        api.fail_next(1, 500, applied=True)
        return await client.send_text(PSID, "Hello again")

    # a text can be recognised among the page's messages: delivered once
    api = FakeGraphApi(TOKEN)
    ids = _run(text_scenario, api)
    [post] = api.calls_to("me/messages", "POST")
    assert post.status == 500 and post.applied
    assert ids == [api.calls_to("me/conversations", "GET")[0].response["data"][0]["messages"][
        "data"][0]["id"]]
    assert api.sent_texts() == ["Hello again"]
    # a template carries no text to compare: sent again, a duplicate rather than silence
    api = FakeGraphApi(TOKEN)
    _run(scenario, api)
    assert len(api.sent_messages()) == 2 and api.calls_to("me/conversations") == []


@pytest.mark.parametrize("operation", ["send", "public_reply", "private_reply"])
def test_a_timeout_where_the_call_did_not_land_is_sent_again_and_delivered_once(operation):
    async def scenario(client, api):
        api.fail_next(1, 503, delay=0.5)  # nothing carried out; the answer comes too late
        if operation == "send":
            return await client.send_text(PSID, "Your parcel is on its way")
        if operation == "public_reply":
            return await client.public_reply(COMMENT, REPLY)
        return await client.private_reply(COMMENT, REPLY)

    api = FakeGraphApi(TOKEN)
    result = _run(scenario, api, **QUICK)
    if operation == "send":
        posts = api.calls_to("me/messages", "POST")
        assert api.sent_texts() == ["Your parcel is on its way"]
        assert result == [posts[1].response["message_id"]]
        assert len(api.calls_to("me/conversations", "GET")) == 1
    elif operation == "public_reply":
        posts = api.calls_to(f"{COMMENT}/comments", "POST")
        assert api.comment_replies(COMMENT) == [REPLY] and result == posts[1].response["id"]
        assert len(api.calls_to(f"{COMMENT}/comments", "GET")) == 1
    else:
        posts = api.calls_to("me/messages", "POST")
        assert _private_replies(api) == [REPLY]
        assert result == SentMessage(posts[1].response["recipient_id"],
                                     posts[1].response["message_id"])
    assert [p.applied for p in posts] == [False, True]


def test_a_first_attempt_answered_already_replied_is_still_an_error():
    async def scenario(client, api):
        await client.private_reply(COMMENT, "Someone else's private reply")
        with pytest.raises(GraphSendError) as refused:
            await client.private_reply(COMMENT, REPLY)
        api.fail_next(1, 429)  # a clear "not processed" does not make the refusal ours
        with pytest.raises(GraphSendError) as after_rate_limit:
            await client.private_reply(COMMENT, REPLY)
        return refused.value, after_rate_limit.value

    api = FakeGraphApi(TOKEN)
    refused, after_rate_limit = _run(scenario, api, **QUICK)
    assert (refused.status, refused.code, refused.attempts) == (400, 10900, 1)
    assert (after_rate_limit.code, after_rate_limit.attempts) == (10900, 2)
    assert "Activity already replied to" in str(refused)
    assert _private_replies(api) == ["Someone else's private reply"]


@pytest.mark.parametrize("operation", ["send", "public_reply"])
def test_a_failing_check_falls_back_to_sending_again(operation, caplog):
    async def scenario(client, api):
        if operation == "send":
            api.fail_next(1, path="me/messages", **LANDED_LATE)
            api.fail_next(1, 500, path="me/conversations")
            return await client.send_text(PSID, "Your parcel is on its way")
        api.fail_next(1, path="/comments", method="POST", **LANDED_LATE)
        api.fail_next(1, 503, path="/comments", method="GET")
        return await client.public_reply(COMMENT, REPLY)

    api = FakeGraphApi(TOKEN)
    with caplog.at_level(logging.DEBUG, logger="bot.messenger"):
        _run(scenario, api, **QUICK)
    if operation == "send":
        assert api.sent_texts() == ["Your parcel is on its way"] * 2
        assert "HTTP 500, error code 1: An unknown error has occurred." in caplog.text
    else:
        assert api.comment_replies(COMMENT) == [REPLY] * 2
        assert "HTTP 503, error code 2: Service temporarily unavailable" in caplog.text
    assert "checking failed" in caplog.text and "the outcome is unknown" in caplog.text
    assert api.pending_failures == 0
    _no_personal_data(caplog.text)


def test_rate_limits_are_sent_again_without_a_check():
    async def scenario(client, api):
        api.fail_next(1, 429)
        api.fail_next(1, 400, code=613)
        await client.send_text(PSID, "Hello")
        await client.public_reply(COMMENT, REPLY)

    api = FakeGraphApi(TOKEN)
    _run(scenario, api, **QUICK)
    assert [c.method for c in api.calls] == ["POST"] * 4
    assert api.sent_texts() == ["Hello"] and api.comment_replies(COMMENT) == [REPLY]


def test_a_landed_message_is_not_mistaken_for_an_earlier_identical_one():
    async def scenario(client, api):
        await client.send_text(PSID, "Okay!")
        api.fail_next(1, 503, delay=0.5)  # the second "Okay!" does not land at first
        return await client.send_text(PSID, "Okay!")

    api = FakeGraphApi(TOKEN)
    ids = _run(scenario, api, **QUICK)
    posts = api.calls_to("me/messages", "POST")
    assert api.sent_texts() == ["Okay!", "Okay!"]
    assert ids == [posts[2].response["message_id"]] != [posts[0].response["message_id"]]


def test_fake_answers_too_late_on_request_over_http():
    api = FakeGraphApi(TOKEN)
    with FakeGraphServer(api) as server:
        request = urllib.request.Request(
            f"{server.base_url}/_fail", method="POST",
            data=json.dumps({**LANDED_LATE, "path": "me/messages"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response) == {"pending": 1}

        async def send():
            async with GraphClient(server.base_url, TOKEN, backoff_seconds=0.01,
                                   timeout_seconds=0.2) as client:
                return await client.send_text(PSID, "Hello from another process")

        ids = asyncio.run(send())
        with urllib.request.urlopen(f"{server.base_url}/_calls", timeout=5) as response:
            recorded = json.load(response)["calls"]
    assert [(c["method"], c["path"]) for c in recorded] == [
        ("POST", "/v19.0/me/messages"), ("GET", "/v19.0/me"), ("GET", "/v19.0/me/conversations")]
    assert recorded[0]["applied"] and recorded[0]["response"]["message_id"] == ids[0]
    assert api.sent_texts() == ["Hello from another process"]


def test_fake_reads_check_their_parameters_like_graph():
    async def scenario(client, api):
        await client.send_text(PSID, "Hello")
        await client.public_reply(COMMENT, REPLY)
        base = f"{client.base_url}/v19.0"
        token = {"access_token": TOKEN}
        queries = [
            ("me/conversations", {"user_id": PSID, "fields": "messages{text}"}),
            ("me/conversations", {"user_id": PSID, "fields": "colour"}),
            ("me/conversations", {"platform": "sms"}),
            (f"{COMMENT}/comments", {"order": "newest"}),
            (f"{COMMENT}/comments", {"limit": "0"}),
            ("me/conversations", {"user_id": "111222333444", "fields": "messages"}),
            (f"{COMMENT}/comments", {}),
            ("me/conversations", {"user_id": PSID}),
        ]
        answers = []
        async with aiohttp.ClientSession() as session:
            for path, query in queries:
                async with session.get(f"{base}/{path}", params={**query, **token}) as response:
                    answers.append((response.status, await response.json()))
        return answers

    api = FakeGraphApi(TOKEN)
    answers = _run(scenario, api)
    for status, answer in answers[:5]:
        assert status == 400 and answer["error"]["code"] == 100
    assert "nonexisting field (text) on node type (Message)" in answers[0][1]["error"]["message"]
    assert answers[5] == (200, {"data": []})
    [reply] = answers[6][1]["data"]
    assert set(reply) == {"id", "message", "from", "created_time"}
    assert reply["created_time"].endswith("+0000")
    [conversation] = answers[7][1]["data"]
    assert set(conversation) == {"id", "updated_time"}


# ------------------------------------------------------------------ the fake itself


def test_fake_rejects_malformed_bodies_like_graph():
    bad_bodies = [
        {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "x" * 2001}},
        {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
         "message": {"text": "hi", "quick_replies": [
             {"content_type": "text", "title": "t", "payload": "p"}] * 14}},
        {"recipient": {"id": PSID}, "message": {"text": "no messaging type"}},
        {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "tag": "HUMAN_AGENT",
         "message": {"text": "tag without MESSAGE_TAG"}},
        {"messaging_type": "RESPONSE", "message": {"text": "no recipient"}},
        {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {
            "attachment": {"type": "template", "payload": {
                "template_type": "button", "text": "four",
                "buttons": [{"type": "postback", "title": "b", "payload": "p"}] * 4}}}},
    ]

    async def scenario(client, api):
        url = f"{client.base_url}/v19.0/me/messages?access_token={TOKEN}"
        answers = []
        async with aiohttp.ClientSession() as session:
            for body in bad_bodies:
                async with session.post(url, json=body) as response:
                    answers.append((response.status, await response.json()))
            async with session.post(url, data=b"{not json",
                                    headers={"Content-Type": "application/json"}) as response:
                answers.append((response.status, await response.json()))
        return answers

    api = FakeGraphApi(TOKEN)
    answers = _run(scenario, api)
    assert len(answers) == len(bad_bodies) + 1
    for status, answer in answers:
        assert status == 400
        assert set(answer["error"]) >= {"message", "type", "code"}
        assert answer["error"]["code"] == 100
    assert "2000" in answers[0][1]["error"]["message"]
    assert "13" in answers[1][1]["error"]["message"]
    assert [c.status for c in api.calls] == [400] * len(answers)


def test_fake_in_a_background_thread_is_driven_over_http():
    api = FakeGraphApi(TOKEN)
    with FakeGraphServer(api) as server:
        request = urllib.request.Request(
            f"{server.base_url}/_fail", method="POST",
            data=json.dumps({"status": 429, "times": 1}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response) == {"pending": 1}

        async def send():
            async with GraphClient(server.base_url, TOKEN, backoff_seconds=0.01) as client:
                return await client.send_text(PSID, "Hello from another process")

        ids = asyncio.run(send())
        with urllib.request.urlopen(f"{server.base_url}/_calls?since=1", timeout=5) as response:
            recorded = json.load(response)
    assert recorded["count"] == 2 and len(recorded["calls"]) == 1
    call = recorded["calls"][0]
    assert (call["method"], call["path"], call["status"]) == ("POST", "/v19.0/me/messages", 200)
    assert call["query"] == {"access_token": TOKEN}
    assert call["json"]["message"]["text"] == "Hello from another process"
    assert call["response"]["message_id"] == ids[0]
    assert api.calls[0].status == 429
