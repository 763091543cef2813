"""What tests need of the User service: settings and factories (``factories``), pytest fixtures
(``fixtures``, star-imported by the service's ``tests/conftest.py``). Part of the package so
that other services' tests import them by name; left out of the image."""
