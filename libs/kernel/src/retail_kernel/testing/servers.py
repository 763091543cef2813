"""Serving an app to tests: in-process through ASGI, under uvicorn in a thread of its own
(for synchronous clients such as schemathesis), or as a process of its own."""

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import uvicorn

from retail_kernel.embedded import free_port, port_open


@contextmanager
def threaded_server(app: Any, *, timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` on a free port; yields its base URL and stops it on exit."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def asgi_client(
    app: Any, base_url: str = "http://service.test"
) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan and yield an httpx client that calls it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@asynccontextmanager
async def running_server(app: Any, *, lifespan: bool = True) -> AsyncIterator[str]:
    """Serve ``app`` under uvicorn in this event loop, on a free port, for services that other
    services (or many concurrent clients) call over real HTTP; yields its base URL.
    ``lifespan=False`` serves an app whose lifespan the caller already runs."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=free_port(),
        log_level="warning",
        lifespan="on" if lifespan else "off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped while starting")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        await task


async def clear_of_a_window_edge(window: float = 60.0, margin: float = 3.0) -> None:
    """Rate-limit windows are aligned to the clock, and near an edge the sliding-window
    counter weighs the previous window in; a test that counts hits up to a limit starts where
    the next edge is more than ``margin`` seconds away."""
    left = window - time.time() % window
    if left < margin:
        await asyncio.sleep(left + 0.05)


@contextmanager
def served_process(app: str, env: dict[str, str], *, factory: bool) -> Iterator[str]:
    """One uvicorn worker serving ``app`` ("module:attribute") in a process of its own, with
    ``env`` added to this one's environment; yields its base URL and stops it on exit."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning", *(["--factory"] if factory else [])]
    process = subprocess.Popen(command, env={**os.environ, **env})  # noqa: S603 - our own modules
    deadline = time.monotonic() + 30
    while not port_open(port):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"{app} did not start")
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()
