"""Canned replies: the brand's file is checked, and a reply is filled for one ticket."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.desk.canned import CannedRepliesError, CannedReply, load_canned_replies

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_the_brands_file_loads():
    replies = load_canned_replies(PROJECT_DIR / "canned_replies.yml")
    assert len(replies) >= 3 and len({r.key for r in replies}) == len(replies)


def test_filled_with_what_the_ticket_has_and_the_rest_left_visible():
    reply = CannedReply("k", "T", "Hi {first_name}, order {order_number}: {tracking_url}")
    assert reply.filled({"first_name": "Piera", "order_number": "10023",
                         "tracking_url": None}) == "Hi Piera, order 10023: {tracking_url}"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("replies: [{key: a, title: A}]", "needs exactly key, title and text"),
        ("replies: [{key: A B, title: A, text: x}]", "not a unique lower-case name"),
        ("replies: [{key: a, title: A, text: x}, {key: a, title: B, text: y}]", "unique"),
        ("replies: [{key: a, title: A, text: 'Hi {name}'}]", "unknown placeholder {name}"),
        ("replies: nope", "expected a list"),
        ("replies: [", "not valid YAML"),
    ],
)
def test_mistakes_in_the_file_are_named(tmp_path, content, complaint):
    path = tmp_path / "canned_replies.yml"
    path.write_text(content)
    with pytest.raises(CannedRepliesError, match=complaint):
        load_canned_replies(path)


def test_no_file_no_canned_replies(tmp_path):
    assert load_canned_replies(tmp_path / "missing.yml") == []
