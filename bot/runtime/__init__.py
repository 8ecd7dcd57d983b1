"""Running nightdesk: training when needed, starting and stopping its server processes."""
