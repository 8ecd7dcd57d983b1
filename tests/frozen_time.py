"""The instant the test stacks live at, so no test depends on the hour the suite runs."""

NIGHT = "2026-12-02T23:00:00+01:00"
"""A Wednesday night in Rome: the team is closed and opens tomorrow at 9:00."""
