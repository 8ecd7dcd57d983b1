"""The channel names conversations and tickets from the Facebook Page carry (no Rasa import)."""

CHANNEL_NAME = "messenger"
"""Private messages (DMs) with the page."""

COMMENT_CHANNEL = "messenger_comment"
"""Tickets opened from public comments under the page's posts."""
