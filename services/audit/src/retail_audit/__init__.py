"""The audit log: every domain event of the platform, as received, append-only."""
