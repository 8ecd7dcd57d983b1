"""Conversation metrics: the night's figures, the morning report and its charts.

Computed from what is stored (Rasa's events, the tickets, the retention runs). Nothing here
knows the agents' desk: the desk and the CLI show these figures, not the other way round.
"""
