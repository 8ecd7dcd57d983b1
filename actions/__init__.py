"""The Rasa SDK action server: thin adapters from a Rasa tracker to the domain code in `bot/`.

Start it through `bot.runtime.serve` (as `nightdesk up` does), which installs personal-data
redaction on every log record before Rasa SDK logs anything.
"""
