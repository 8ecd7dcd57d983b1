"""Roles on the desk and what each may do.

* agent: works the handoff queue (read tickets and transcripts, claim, reply, resolve,
  hand back).
* trainer: grows the bot from conversations (the training section); reads tickets, since
  that is where misunderstood messages come from, but does not answer customers.
* admin: everything, and manages the desk's people.
"""

from __future__ import annotations

from enum import Enum


class Permission(str, Enum):
    """One thing a person may do on the desk."""

    READ_TICKETS = "read_tickets"
    WORK_TICKETS = "work_tickets"
    TRAIN = "train"
    MANAGE_AGENTS = "manage_agents"
    MANAGE_CUSTOMER_DATA = "manage_customer_data"
    """Export and erase what is held about a customer (admins only)."""


class Role(str, Enum):
    """A desk role; its value is what `nightdesk agents add --role` takes."""

    AGENT = "agent"
    TRAINER = "trainer"
    ADMIN = "admin"

    def may(self, permission: Permission) -> bool:
        """Whether this role has the permission."""
        return permission in _PERMISSIONS[self]


_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset({Permission.READ_TICKETS, Permission.WORK_TICKETS}),
    Role.TRAINER: frozenset({Permission.READ_TICKETS, Permission.TRAIN}),
    Role.ADMIN: frozenset(Permission),
}
