"""The API gateway: routes, verifies, limits and traces every request into the platform."""
