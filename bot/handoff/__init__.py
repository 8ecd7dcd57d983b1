"""Handing conversations to a person: reasons, tickets, pauses and redaction."""
