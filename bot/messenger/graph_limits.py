"""Fixed values of Meta's Graph API and Messenger Platform that the Graph client keeps to.

Size limits of what a message may hold, the allowed values of a few fields, Graph's error codes
the client reacts to, the Page Inbox's app id, and how much a "did it land?" check reads.
"""

from __future__ import annotations

MAX_TEXT_LENGTH = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_QUICK_REPLY_PAYLOAD = 1000
MAX_BUTTON_TEMPLATE_TEXT = 640
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ELEMENT_TITLE = 80
MAX_ELEMENT_SUBTITLE = 80
MAX_METADATA = 1000
SENDER_ACTIONS = frozenset({"mark_seen", "typing_on", "typing_off"})
MEDIA_TYPES = frozenset({"image", "audio", "video", "file"})
MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
ALREADY_REPLIED_CODE = 10900
"""Graph's error code for a private reply to a comment that already received one."""
PAGE_INBOX_APP_ID = 263902037430900
"""The app id of the Page Inbox (Meta Business Suite), the usual handover target."""
PROFILE_FIELDS = "first_name,last_name,profile_pic"
PROFILE_TTL_SECONDS = 24 * 3600.0
CHECK_MESSAGES = 10
"""How many of a conversation's most recent messages a delivery check reads."""
CHECK_REPLIES = 25
"""How many of a comment's most recent replies a public-reply check reads."""
CLOCK_SKEW_SECONDS = 2.0
"""How much earlier than our first attempt Graph's clock may date the message it posted."""
