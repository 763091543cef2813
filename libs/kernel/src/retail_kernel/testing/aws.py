"""A local AWS for tests (moto's server): the platform's only cloud dependency, faked on the
wire so that boto3 talks to it exactly as it talks to AWS."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from retail_kernel.embedded import free_port

REGION = "us-east-1"


@contextmanager
def moto_server() -> Iterator[str]:
    """moto on a free local port; yields its endpoint URL. boto3 is given fake credentials
    and the region through the environment, as a pod's would be."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - a test-only dependency

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("AWS_ACCESS_KEY_ID", "test")
        environment.setenv("AWS_SECRET_ACCESS_KEY", "test")
        environment.setenv("AWS_DEFAULT_REGION", REGION)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()
