"""Test support for retail services: the pytest plugin and its helpers."""
