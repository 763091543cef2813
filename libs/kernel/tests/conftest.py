"""The kernel's tests run on the kernel's own tiny schema (``retail_kernel.testing.schema``)."""

import pytest

from retail_kernel.db import Database
from retail_kernel.settings import BaseServiceSettings
from retail_kernel.testing.plugin import RetailInfra
from retail_kernel.testing.settings import settings_for_tests


@pytest.fixture
def database(kernel_db: Database) -> Database:
    return kernel_db


@pytest.fixture
def kernel_settings(kernel_database_url: str, retail_infra: RetailInfra) -> BaseServiceSettings:
    return settings_for_tests(
        BaseServiceSettings, kernel_database_url, retail_infra.bootstrap_servers
    )
