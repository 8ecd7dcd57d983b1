"""Rasa's tracker store table (``events``) as SQLTrackerStore makes it, for seeding tests."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text
from sqlalchemy.engine import Engine


def events_table(engine: Engine, replace: bool = False) -> Table:
    """Creates the table (the columns Rasa 3.6's SQLTrackerStore gives it); `replace` drops one
    left in a shared database first."""
    events = Table("events", MetaData(), Column("id", Integer, primary_key=True),
                   Column("sender_id", String(255)), Column("type_name", String(255)),
                   Column("timestamp", Float), Column("intent_name", String(255)),
                   Column("action_name", String(255)), Column("data", Text))
    if replace:
        events.drop(engine, checkfirst=True)
    events.create(engine)
    return events


def user_event(sender: str, text: str, at: datetime, intent: str, confidence: float) -> dict:
    """A row for one customer message, with what the model read in it."""
    data = {"event": "user", "timestamp": at.timestamp(), "text": text,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}}}
    return {"sender_id": sender, "type_name": "user", "timestamp": at.timestamp(),
            "intent_name": intent, "action_name": None, "data": json.dumps(data)}


def slot_event(sender: str, name: str, value: object, at: datetime) -> dict:
    """A row for a slot set (as `action_detect_language` sets ``language`` after a message)."""
    data = {"event": "slot", "timestamp": at.timestamp(), "name": name, "value": value}
    return {"sender_id": sender, "type_name": "slot", "timestamp": at.timestamp(),
            "intent_name": None, "action_name": None, "data": json.dumps(data)}


def bot_event(sender: str, text: str, at: datetime) -> dict:
    """A row for one bot message."""
    data = {"event": "bot", "timestamp": at.timestamp(), "text": text}
    return {"sender_id": sender, "type_name": "bot", "timestamp": at.timestamp(),
            "intent_name": None, "action_name": None, "data": json.dumps(data)}
