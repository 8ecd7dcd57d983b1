"""The agents' desk: who may work it (agents, roles, passwords), its pages and its commands."""
