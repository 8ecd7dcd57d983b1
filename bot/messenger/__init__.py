"""Messenger channel: the page's DMs and comments in, Send API calls out, and a fake Graph API."""
