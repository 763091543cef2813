"""The chart's dev environment, run: its rendered hook Jobs and Deployments played with
``podman kube play`` (the locally built image, every pod on the host's network) against a
PostgreSQL and a broker of the test's own; an order through the gateway pod is confirmed."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from retail_charts import CHART, helm, of_kind
from retail_kernel.embedded import free_port
from retail_kernel.registry import installed_services
from retail_kernel.testing.containers import (
    IMAGE,
    HostInfrastructure,
    host_infrastructure,
    podman,
    remove_containers,
    run_container,
    wait_ready,
)
from retail_storefront import PASSWORD, Storefront

RELEASE = "retail-kube"

pytestmark = pytest.mark.timeout(900)

Manifest = dict[str, Any]


def _render(infra: HostInfrastructure, ports: dict[str, int]) -> list[Manifest]:
    """The dev values, pointed at this machine: pods on the host's network find each other
    at 127.0.0.1 on ports of the test's choosing."""
    repository, tag = IMAGE.rsplit(":", 1)
    overrides = {
        "hostNetwork": "true",
        "peerHost": "127.0.0.1",
        "image.repository": repository,
        "image.tag": tag,
        "kafka.bootstrapServers": infra.bootstrap,
        "kafka.idempotentProducer": "false",  # the embedded broker cannot
        "shutdownGraceSeconds": "5",
        **{f"services.{name}.port": str(port) for name, port in ports.items()},
        "services.gateway.env.IP_RATE_LIMIT": "100000/minute",
        "services.gateway.env.AUTH_RATE_LIMIT": "10000/minute",
    }
    options = [item for key, value in overrides.items() for item in ("--set", f"{key}={value}")]
    done = helm("template", RELEASE, str(CHART), "-f", str(CHART / "values-dev.yaml"), *options)
    assert done.returncode == 0, done.stderr
    return [document for document in yaml.safe_load_all(done.stdout) if document]


def _secrets(folder: Path, infra: HostInfrastructure, manifests: list[Manifest]) -> None:
    """What each service's existingSecret holds, as the files a secret volume would show."""
    for volume in _secret_volumes(manifests):
        name = volume["secret"]["secretName"].removeprefix("retail-")
        service = installed_services()[name]
        target = folder / volume["secret"]["secretName"]
        target.mkdir(parents=True, exist_ok=True)
        values = (
            {"database_url": infra.database_url(service.database_name())}
            if service.database
            else {}
        )
        for key in (
            "key_encryption_secret",
            "s3_secret_access_key",
            "stripe_webhook_secrets",
            "session_secret",
        ):
            values[key] = f"{key}-{uuid.uuid5(uuid.NAMESPACE_DNS, name)}"
        # One secret per client, the same in the caller's Secret and in the clients Job.
        values["service_client_secret"] = f"client-{name}-secret"
        for key, value in values.items():
            path = target / key
            path.write_text(value)
            path.chmod(0o444)


def _secret_volumes(manifests: list[Manifest]) -> list[Manifest]:
    return [
        volume
        for manifest in manifests
        if manifest["kind"] in ("Deployment", "Job")
        for volume in manifest["spec"]["template"]["spec"].get("volumes", [])
        if "secret" in volume
    ]


def _playable(manifest: Manifest, secrets: Path) -> Manifest:
    """Two things podman 4.3 (Debian bookworm) cannot take as Kubernetes does, changed the
    least way: it crashes on secret volumes in ``kube play`` (a nil pointer in
    VolumeFromSecret), so the same files are mounted from the host; and it turns a host-network
    pod's container ports into port mappings it then refuses, so the ports are dropped and the
    probes name the number. Nothing else of the rendered object changes."""
    spec = manifest["spec"]["template"]["spec"]
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            folder = secrets / volume.pop("secret")["secretName"]
            volume["hostPath"] = {"path": str(folder), "type": "Directory"}
    for container in spec["containers"]:
        ports = {port["name"]: port["containerPort"] for port in container.pop("ports", [])}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            check = container.get(probe, {}).get("httpGet")
            if check and check["port"] in ports:
                check["port"] = ports[check["port"]]
    return manifest


def _job_as_pod(job: Manifest, secrets: Path) -> Manifest:
    """A hook Job's pod, as Kubernetes would start it (``kube play`` has no Jobs)."""
    template = _playable(job, secrets)["spec"]["template"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": job["metadata"]["name"], "labels": template["metadata"]["labels"]},
        "spec": {**template["spec"], "restartPolicy": "Never", "hostNetwork": True},
    }


def _play(folder: Path, name: str, documents: list[Manifest]) -> None:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    podman("kube", "play", "--replace", str(path), timeout=300)


def _run_job(folder: Path, job: Manifest, secrets: Path) -> str:
    pod = _job_as_pod(job, secrets)
    _play(folder, pod["metadata"]["name"], [pod])
    container = f"{pod['metadata']['name']}-{pod['spec']['containers'][0]['name']}"
    code = int(podman("wait", container, timeout=300).strip())
    logs = podman("logs", container)
    assert code == 0, f"{job['metadata']['name']} failed:\n{logs}"
    return logs


@pytest.fixture(scope="module")
def played(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    del image  # built: the rendered objects name it
    folder = tmp_path_factory.mktemp("kube")
    remove_containers(RELEASE)
    ports = {name: free_port() for name in installed_services()}
    try:
        with host_infrastructure(folder) as infra:
            manifests = _render(infra, ports)
            secrets = folder / "secrets"
            _secrets(secrets, infra, manifests)
            jobs = {job["metadata"]["name"]: job for job in of_kind(manifests, "Job")}
            order = sorted(
                jobs, key=lambda n: int(jobs[n]["metadata"]["annotations"]["helm.sh/hook-weight"])
            )
            for name in order:
                _run_job(folder, jobs[name], secrets)
            deployments = [_playable(d, secrets) for d in of_kind(manifests, "Deployment")]
            _play(folder, "platform", [*of_kind(manifests, "ConfigMap"), *deployments])
            for port in ports.values():
                wait_ready(f"http://127.0.0.1:{port}", timeout=180)
            _create_admin(secrets, manifests)
            yield ports
    finally:
        remove_containers(RELEASE)


def _create_admin(secrets: Path, manifests: list[Manifest]) -> None:
    """``retail users create-admin`` with the User pod's settings, as an operator runs it."""
    user = next(
        m for m in of_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-user")
    )
    env = {
        **user["data"],
        "RETAIL_USER_DATABASE_URL_FILE": "/run/secrets/retail/database_url",
        "RETAIL_USER_KEY_ENCRYPTION_SECRET_FILE": "/run/secrets/retail/key_encryption_secret",
        "RETAIL_ADMIN_PASSWORD": PASSWORD,
    }
    run_container(
        IMAGE,
        f"{RELEASE}-create-admin",
        ["users", "create-admin", "--username", "root", "--email", "root@example.com"],
        env=env,
        mounts=[f"{secrets / 'retail-user'}:/run/secrets/retail:ro"],
        detach=False,
    )


def test_every_dev_deployment_runs_as_rendered_and_is_ready(played: dict[str, int]) -> None:
    pods = podman("pod", "ps", "--filter", f"name=^{RELEASE}", "--format", "{{.Name}}").split()
    for name, port in played.items():
        assert any(pod.startswith(f"{RELEASE}-{name}-") for pod in pods), (name, pods)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200, name
    container = podman("ps", "--filter", f"name=^{RELEASE}-order", "--format", "{{.Names}}")
    state = yaml.safe_load(podman("inspect", container.split()[0]))[0]
    assert state["HostConfig"]["ReadonlyRootfs"] is True
    assert state["Config"]["User"].split(":")[0] == "10001"


def test_an_order_through_the_gateway_pod_is_confirmed(played: dict[str, int]) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{played['gateway']}", timeout=30) as http:
        front = Storefront(http)
        admin = front.log_in("root")
        customer = front.sign_up("kim")
        order_id = front.order(customer, front.stock(admin, "KUBE-1", 5))
        assert front.final(customer, order_id)["status"] == "CONFIRMED"
        front.captured(customer, order_id)


def test_hook_jobs_ran_before_the_services(played: dict[str, int]) -> None:
    del played
    names = podman(
        "ps", "--all", "--filter", f"name=^{RELEASE}-migrate", "--format", "{{.Names}} {{.Status}}"
    )
    migrated = [line for line in names.splitlines() if "Exited (0)" in line]
    databases = [info for info in installed_services().values() if info.database]
    assert len(migrated) == len(databases), names
