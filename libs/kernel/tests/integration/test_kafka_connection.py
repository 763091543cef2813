"""Every client reaches the brokers the way the settings say: in plain text, or over TLS. A
listener that records the first bytes it is sent tells the two apart: a TLS handshake record
(0x16 0x03) or a Kafka request's length prefix."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from retail_kernel.kafka import ensure_topics, make_producer
from retail_kernel.settings import BaseServiceSettings
from retail_kernel.testing.plugin import RetailInfra

TLS_HANDSHAKE = b"\x16\x03"


@pytest.fixture
async def listener() -> AsyncIterator[tuple[str, asyncio.Queue[bytes]]]:
    """A TCP listener that hands over the first bytes of every connection, then hangs up."""
    first_bytes: asyncio.Queue[bytes] = asyncio.Queue()

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            first_bytes.put_nowait(await reader.readexactly(2))
        writer.close()

    server = await asyncio.start_server(record, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"127.0.0.1:{port}", first_bytes


async def first_bytes_of(
    connect: Callable[[], Coroutine[Any, Any, object]], first_bytes: asyncio.Queue[bytes]
) -> bytes:
    attempt = asyncio.create_task(connect())
    try:
        async with asyncio.timeout(20):
            return await first_bytes.get()
    finally:
        attempt.cancel()
        with contextlib.suppress(BaseException):
            await attempt


def settings(bootstrap: str, protocol: str) -> BaseServiceSettings:
    return BaseServiceSettings(
        environment="test", kafka_bootstrap_servers=bootstrap, kafka_security_protocol=protocol
    )


@pytest.mark.parametrize(("protocol", "tls"), [("SSL", True), ("PLAINTEXT", False)])
async def test_producers_speak_the_configured_protocol(
    listener: tuple[str, asyncio.Queue[bytes]], protocol: str, tls: bool
) -> None:
    address, first_bytes = listener
    producer = make_producer(settings(address, protocol))
    try:
        sent = await first_bytes_of(producer.start, first_bytes)
    finally:
        await producer.stop()
    assert (sent == TLS_HANDSHAKE) is tls


async def test_topics_are_made_over_tls_when_asked(
    listener: tuple[str, asyncio.Queue[bytes]],
) -> None:
    address, first_bytes = listener
    sent = await first_bytes_of(
        lambda: ensure_topics(address, ["probe"], security_protocol="SSL"), first_bytes
    )
    assert sent == TLS_HANDSHAKE


async def test_a_plain_text_producer_reaches_the_embedded_broker(retail_infra: RetailInfra) -> None:
    producer = make_producer(settings(retail_infra.bootstrap_servers, "PLAINTEXT"))
    await producer.start()
    await producer.stop()
