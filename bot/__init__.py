"""nightdesk: the product's own code, everything that is not Rasa configuration."""
