"""The agents' desk: who may work it (agents, roles, passwords) and what they changed (audit)."""
