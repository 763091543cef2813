"""What tests need of the Notification service: settings and factories (``factories``), pytest
fixtures (``fixtures``, star-imported by the service's ``tests/conftest.py``) and the SendGrid,
Twilio, Slack and Teams fakes. Part of the package so that other services' tests import them by
name; left out of the image."""
