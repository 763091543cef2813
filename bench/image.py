"""The production image: its size, and how long one service takes from start to ready in a
container (``podman run``) beside the same service started by ``retail serve`` on the host,
in alternating turns of one run."""

import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import RESULTS, Infra, infrastructure
from retail_kernel.embedded import free_port
from retail_kernel.testing.containers import (
    BASE_IMAGE,
    build_image,
    forwarded_postgres,
    podman,
    run_container,
    wait_ready,
)

TURNS = 7
SERVICE = "user"
CONTAINER = "retail-bench-image"


def _env(infra: Infra, database_port: int, port: int) -> dict[str, str]:
    return {
        "RETAIL_USER_DATABASE_URL": (
            f"postgresql+asyncpg://postgres@127.0.0.1:{database_port}/retail_user"
        ),
        "RETAIL_USER_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
        "RETAIL_USER_PORT": str(port),
        "RETAIL_USER_LOG_LEVEL": "WARNING",
    }


def _bare(env: dict[str, str], port: int) -> float:
    retail = Path(sys.executable).parent / "retail"
    start = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our own command
        [str(retail), "serve", SERVICE],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        return time.monotonic() - start
    finally:
        process.terminate()
        process.wait(timeout=30)


def _contained(image: str, env: dict[str, str], port: int) -> float:
    start = time.monotonic()
    run_container(image, CONTAINER, ["serve", SERVICE], env=env)
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        return time.monotonic() - start
    finally:
        podman("rm", "--force", "--time", "5", CONTAINER)


def main(duration: float) -> str:
    del duration  # a start is measured whole, not for a time
    image = build_image()
    size = int(podman("image", "inspect", "--format", "{{.Size}}", image))
    base = int(podman("image", "inspect", "--format", "{{.Size}}", BASE_IMAGE))
    bare: list[float] = []
    contained: list[float] = []
    with infrastructure(SERVICE) as infra, forwarded_postgres(infra.admin_uri) as database:
        for _ in range(TURNS):
            port = free_port()
            bare.append(_bare(_env(infra, database, port), port))
            port = free_port()
            contained.append(_contained(image, _env(infra, database, port), port))
    return _report(size, base, bare, contained)


def _report(size: int, base: int, bare: list[float], contained: list[float]) -> str:
    bare_median, contained_median = statistics.median(bare), statistics.median(contained)
    lines = [
        "# Production image benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores. The image is built from the repository's Dockerfile on the "
        "local Debian bookworm base (`deploy/image/debian-base.sh`). Start: from the command "
        f"to `/readyz` answering 200, for the {SERVICE} service (database and broker reached), "
        f"{TURNS} turns each, bare and container alternating; the container runs read-only as "
        "uid 10001 on the host's network, the bare process is `retail serve` from the "
        "project's virtual environment. Both reach PostgreSQL through the same TCP forwarder, and "
        "both have their bytecode compiled (`./dev` installs with `--compile-bytecode`; the "
        "image compiles what the services import at start).",
        "",
        "| what | figure | goal |",
        "| --- | ---: | ---: |",
        f"| image size | {size / 1e6:.0f} MB | ≤ 300 MB |",
        f"| of which the base image | {base / 1e6:.0f} MB | |",
        f"| bare start (`retail serve`), median | {bare_median:.2f} s | |",
        f"| container start (`podman run`), median | {contained_median:.2f} s | |",
        f"| container / bare | {contained_median / bare_median:.2f} times | at most 1.5 times |",
        "",
        f"Every turn, bare: {', '.join(f'{t:.2f}' for t in bare)} s; "
        f"container: {', '.join(f'{t:.2f}' for t in contained)} s.",
        "",
    ]
    report = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "image.md").write_text(report)
    return report


if __name__ == "__main__":
    print(main(0))
