"""Our own NLU pipeline components (Rasa graph components), named in config.yml."""
