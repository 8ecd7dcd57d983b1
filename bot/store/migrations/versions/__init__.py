"""One migration per schema change, named by its number (0001 is the release of 2026-12-01)."""
