"""Local fakes of external systems, served on loopback for tests."""
