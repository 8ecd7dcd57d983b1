"""A Messenger-style web chat served by the Rasa server, for trying the bot without Facebook."""
