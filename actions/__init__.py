"""The Rasa SDK action server: thin adapters from a Rasa tracker to the domain code in `bot/`.

Importing the package installs personal-data redaction on every log record of the process.
"""

from bot.handoff.log_redaction import install_log_redaction

install_log_redaction()
