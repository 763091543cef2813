"""The Helm chart, the Flux environments and the Istio policies, checked with real tools:
helm lint and template, Kubernetes' own schemas for core kinds, the CRDs' schemas for Istio,
Flux and the Prometheus Operator, and policy rules over what every environment renders —
among them that the network and mesh policies allow exactly the calls the code makes."""

import functools
import subprocess
from collections.abc import Iterable
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.fluxcd.helm import v2 as flux_helm
from cloudcoil.models.fluxcd.image import v1beta2 as flux_image
from cloudcoil.models.fluxcd.kustomize import v1 as flux_kustomize
from cloudcoil.models.fluxcd.source import v1 as flux_source
from cloudcoil.models.istio.networking import v1 as istio_networking
from cloudcoil.models.istio.security import v1 as istio_security
from cloudcoil.models.prometheus_operator import v1 as prometheus
from pydantic import BaseModel

from retail_charts import CHART, ROOT, Manifest, calls_in_the_code, helm, of_kind, tool
from retail_kernel.registry import installed_services
from retail_kernel.settings import TopicSettings

FLUX = ROOT / "deploy" / "flux"
ENVIRONMENTS = ("dev", "staging", "prod")
KUBERNETES = "1.33.0"
NAME = "app.kubernetes.io/name"
# Every variation a test renders: each environment, and the paths values can switch on.
VARIATIONS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(ENVIRONMENTS, ()),
    "prod-canary": (
        "--set", "istio.canary.services.order.tag=0.2.0",
        "--set", "istio.canary.services.order.weight=10",
        "--set", "istio.canary.services.payment.tag=0.2.0",
        "--set", "istio.canary.services.payment.weight=25",
    ),
    "staging-kong": ("--set", "kong.enabled=true"),
    # The pipeline's promotion of one service (.github/workflows/_deploy.yml), and its preview
    # environment (deploy/pipeline/preview).
    "prod-promoted": ("--set", "services.order.image.tag=0.2.0"),
    "dev-preview": (
        "-f", str(ROOT / "deploy" / "pipeline" / "preview.d" / "values.yaml"),
        "--set", "image.tag=0123abc",
    ),
}  # fmt: skip
CRDS: dict[tuple[str, str], type[BaseModel]] = {
    ("networking.istio.io/v1", "DestinationRule"): istio_networking.DestinationRule,
    ("networking.istio.io/v1", "VirtualService"): istio_networking.VirtualService,
    ("security.istio.io/v1", "PeerAuthentication"): istio_security.PeerAuthentication,
    ("security.istio.io/v1", "AuthorizationPolicy"): istio_security.AuthorizationPolicy,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): prometheus.ServiceMonitor,
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): flux_source.GitRepository,
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"): flux_helm.HelmRelease,
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): flux_kustomize.Kustomization,
    ("image.toolkit.fluxcd.io/v1beta2", "ImageRepository"): flux_image.ImageRepository,
    ("image.toolkit.fluxcd.io/v1beta2", "ImagePolicy"): flux_image.ImagePolicy,
    ("image.toolkit.fluxcd.io/v1beta2", "ImageUpdateAutomation"): (
        flux_image.ImageUpdateAutomation
    ),
}


def values_files(variation: str) -> list[str]:
    """``-f`` options: the environment's values, then the images the pipeline promoted there."""
    environment = variation.split("-", maxsplit=1)[0]
    files = [CHART / f"values-{environment}.yaml", CHART / f"images-{environment}.yaml"]
    return [option for path in files if path.exists() for option in ("-f", str(path))]


@functools.cache
def rendered(variation: str) -> tuple[Manifest, ...]:
    done = helm(
        "template", "retail", str(CHART), "--namespace", "shop",
        *values_files(variation), *VARIATIONS[variation],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return tuple(document for document in yaml.safe_load_all(done.stdout) if document)


def by_service(manifests: Iterable[Manifest], kind: str) -> dict[str, Manifest]:
    """One object of ``kind`` per service (the stable Deployment, not the canary)."""
    return {
        manifest["metadata"]["labels"][NAME]: manifest
        for manifest in of_kind(manifests, kind)
        if manifest["metadata"].get("labels", {}).get("version", "stable") == "stable"
        and NAME in manifest["metadata"].get("labels", {})
    }


def pod_specs(manifests: Iterable[Manifest]) -> list[tuple[str, Manifest]]:
    specs = []
    for manifest in manifests:
        name = manifest["metadata"]["name"]
        if manifest["kind"] in ("Deployment", "Job"):
            specs.append((name, manifest["spec"]["template"]["spec"]))
        elif manifest["kind"] == "CronJob":
            specs.append((name, manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
    return specs


def check_against_crd(manifest: Manifest) -> None:
    """The CRD's schema: no field of the wrong type, and — since the model keeps only the
    fields it knows — no unknown field (the round trip would lose it)."""
    model = CRDS[(manifest["apiVersion"], manifest["kind"])]
    kept = model.model_validate(manifest).model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert kept == manifest, f"{manifest['kind']} {manifest['metadata']['name']}: unknown fields"


def validate(manifest: Manifest) -> None:
    if (manifest["apiVersion"], manifest["kind"]) in CRDS:
        check_against_crd(manifest)
    else:
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


# -- the chart as a whole -------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_helm_lint_strict_passes_for_every_environment(environment: str) -> None:
    done = helm("lint", "--strict", str(CHART), *values_files(environment))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("variation", VARIATIONS)
def test_every_rendered_object_validates_against_its_schema(variation: str) -> None:
    manifests = rendered(variation)
    assert len(manifests) > 40
    for manifest in manifests:
        validate(manifest)


@pytest.mark.parametrize(
    ("unset", "message"),
    [
        ("image.tag=", "image.tag is required"),
        ("services.order.existingSecret=", "services.order.existingSecret is required"),
    ],
)
def test_a_missing_required_value_fails_with_its_name(unset: str, message: str) -> None:
    done = helm("template", "retail", str(CHART), *values_files("prod"), "--set", unset)
    assert done.returncode != 0
    assert message in done.stderr
    assert done.stdout == ""


# -- hardening, probes, availability --------------------------------------------------------


@pytest.mark.parametrize("variation", VARIATIONS)
def test_every_pod_is_hardened_with_requests_and_limits(variation: str) -> None:
    for name, spec in pod_specs(rendered(variation)):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert context["seccompProfile"]["type"] == "RuntimeDefault", name
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), (name, bound)
        # Writable: emptyDir only; everything else mounted is read-only configuration.
        for volume in spec.get("volumes", []):
            assert {"emptyDir", "secret", "configMap"} & set(volume), (name, volume)
    for account in of_kind(rendered(variation), "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("variation", VARIATIONS)
def test_every_deployment_has_its_probes_and_a_grace_above_the_shutdown(variation: str) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for deployment in of_kind(rendered(variation), "Deployment"):
        spec = deployment["spec"]["template"]["spec"]
        container = spec["containers"][0]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert probe in container, (deployment["metadata"]["name"], probe)
        if deployment["metadata"]["labels"][NAME] != "kong":
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert spec["terminationGracePeriodSeconds"] > 2 * values["shutdownGraceSeconds"]
            assert container["args"] == ["serve", deployment["metadata"]["labels"][NAME]]


def test_prod_runs_every_service_replicated_with_a_budget_an_autoscaler_and_spread() -> None:
    manifests = rendered("prod")
    deployments = by_service(manifests, "Deployment")
    budgets = by_service(manifests, "PodDisruptionBudget")
    autoscalers = by_service(manifests, "HorizontalPodAutoscaler")
    assert set(deployments) == set(installed_services())
    assert set(budgets) == set(deployments) == set(autoscalers)
    for name, deployment in deployments.items():
        assert autoscalers[name]["spec"]["minReplicas"] >= 2
        assert budgets[name]["spec"]["minAvailable"] >= 1
        spec = deployment["spec"]["template"]["spec"]
        assert spec["affinity"]["podAntiAffinity"], name
        assert spec["topologySpreadConstraints"], name


def test_dev_runs_one_replica_of_every_service() -> None:
    deployments = by_service(rendered("dev"), "Deployment")
    assert {d["spec"]["replicas"] for d in deployments.values()} == {1}


# -- promotions ------------------------------------------------------------------------------


def test_a_service_promoted_alone_runs_and_migrates_from_its_own_image() -> None:
    images = {
        f"{spec['containers'][0]['args'][-1]} ({name.split('-')[1]})": spec["containers"][0][
            "image"
        ]
        for name, spec in pod_specs(rendered("prod-promoted"))
        if "-migrate-" in name or name.split("-")[-1] in installed_services()
    }
    promoted = {key for key, image in images.items() if image.endswith(":0.2.0")}
    assert promoted == {"order (order)", "order (migrate)"}
    assert {image for key, image in images.items() if key not in promoted} == {
        "docker.io/retail/platform:0.1.0"
    }


# -- AWS -----------------------------------------------------------------------------------


def test_in_prod_services_read_their_secrets_from_secrets_manager_as_their_own_role() -> None:
    manifests = rendered("prod")
    config = by_service(manifests, "ConfigMap")
    accounts = by_service(manifests, "ServiceAccount")
    with_secrets = {
        name
        for name, deployment in by_service(manifests, "Deployment").items()
        if "secrets" in {v["name"] for v in deployment["spec"]["template"]["spec"]["volumes"]}
    }
    assert with_secrets == set(installed_services()) - {"gateway"}
    for name in with_secrets:
        prefix = f"RETAIL_{name.upper()}_"
        assert config[name]["data"][f"{prefix}SECRETS_MANAGER_SECRET_ID"] == f"retail/prod/{name}"
        role = accounts[name]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert role.endswith(f":role/retail-prod-{name}")
    # Set from a file, a setting would win over Secrets Manager and never rotate.
    payment = by_service(manifests, "Deployment")["payment"]["spec"]["template"]["spec"]
    variables = {v["name"] for v in payment["containers"][0]["env"]}
    assert "RETAIL_PAYMENT_STRIPE_WEBHOOK_SECRETS_FILE" not in variables
    policy = by_service(manifests, "NetworkPolicy")["inventory"]["spec"]["egress"]
    assert any(rule["ports"] == [{"port": 443, "protocol": "TCP"}]
               and all("ipBlock" in peer for peer in rule["to"]) for rule in policy)  # fmt: skip


# -- canaries -------------------------------------------------------------------------------


def test_canary_weights_sum_to_100_and_subsets_select_real_pods() -> None:
    manifests = rendered("prod-canary")
    pod_labels = [
        d["spec"]["template"]["metadata"]["labels"] for d in of_kind(manifests, "Deployment")
    ]
    rules = {rule["spec"]["host"]: rule for rule in of_kind(manifests, "DestinationRule")}
    canaries = set()
    for service in of_kind(manifests, "VirtualService"):
        host = service["spec"]["hosts"][0]
        subsets = {subset["name"]: subset["labels"] for subset in rules[host]["spec"]["subsets"]}
        for route in service["spec"]["http"]:
            assert sum(target["weight"] for target in route["route"]) == 100, host
            for target in route["route"]:
                labels = {**subsets[target["destination"]["subset"]], NAME: host}
                assert any(labels.items() <= pod.items() for pod in pod_labels), (host, labels)
                if target["destination"]["subset"] == "canary":
                    canaries.add((host, target["weight"]))
    assert canaries == {("order", 10), ("payment", 25)}


def test_the_mesh_retries_only_idempotent_requests() -> None:
    for service in of_kind(rendered("prod"), "VirtualService"):
        for route in service["spec"]["http"]:
            methods = route.get("match", [{}])[0].get("method", {}).get("regex", "")
            if route["retries"]["attempts"] > 0:
                assert methods and "POST" not in methods and "PATCH" not in methods
        assert service["spec"]["http"][-1]["retries"]["attempts"] == 0  # what matches no method


def test_mtls_is_strict() -> None:
    (peer,) = of_kind(rendered("prod"), "PeerAuthentication")
    assert peer["spec"]["mtls"]["mode"] == "STRICT"


# -- the call graph -------------------------------------------------------------------------


def callers_of(graph: dict[str, set[str]], service: str) -> set[str]:
    return {caller for caller, callees in graph.items() if service in callees}


def selected(peers: list[Manifest]) -> set[str]:
    return {peer["podSelector"]["matchLabels"][NAME] for peer in peers if "podSelector" in peer}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_network_policies_allow_exactly_the_calls_the_code_makes(environment: str) -> None:
    graph = calls_in_the_code()
    policies = by_service(rendered(environment), "NetworkPolicy")
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    kafka_ports = set(values["egress"]["kafka"]["ports"])
    assert set(policies) == set(graph)
    for name, policy in policies.items():
        spec = policy["spec"]
        callers = {peer for rule in spec.get("ingress", []) for peer in selected(rule["from"])}
        callees = {peer for rule in spec["egress"] for peer in selected(rule.get("to", []))}
        assert callers == callers_of(graph, name), name
        assert callees == graph[name], name
        egress_ports = {port["port"] for rule in spec["egress"] for port in rule["ports"]}
        assert kafka_ports <= egress_ports, name
        assert 53 in egress_ports, name
    (deny,) = [
        p
        for p in of_kind(rendered(environment), "NetworkPolicy")
        if "default-deny" in p["metadata"]["name"]
    ]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    front = policies["gateway"]["spec"]["ingress"]
    assert any("namespaceSelector" in peer for rule in front for peer in rule["from"])


def test_only_payment_and_notification_reach_the_internet() -> None:
    for name, policy in by_service(rendered("prod"), "NetworkPolicy").items():
        anywhere = [
            peer for rule in policy["spec"]["egress"] for peer in rule.get("to", [])
            if peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0"
        ]  # fmt: skip
        assert bool(anywhere) == (name in {"payment", "notification"}), name


def test_authorization_policies_allow_exactly_the_calls_the_code_makes() -> None:
    graph = calls_in_the_code()
    policies = by_service(rendered("prod"), "AuthorizationPolicy")
    assert set(policies) == set(graph)
    prefix = "cluster.local/ns/shop/sa/retail-"
    for name, policy in policies.items():
        principals = {
            principal.removeprefix(prefix)
            for rule in policy["spec"]["rules"]
            for source in rule.get("from", [])
            for principal in source["source"].get("principals", [])
        }
        assert principals == callers_of(graph, name), name
    accounts = {
        account["metadata"]["name"] for account in of_kind(rendered("prod"), "ServiceAccount")
    }
    assert {f"retail-{name}" for name in graph} <= accounts


# -- settings -------------------------------------------------------------------------------


def environment_of(manifests: tuple[Manifest, ...], spec: Manifest) -> set[str]:
    config_maps = {m["metadata"]["name"]: m["data"] for m in of_kind(manifests, "ConfigMap")}
    names = set()
    for container in spec["containers"]:
        names |= {variable["name"] for variable in container.get("env", [])}
        for source in container.get("envFrom", []):
            names |= set(config_maps[source["configMapRef"]["name"]])
    return names


@pytest.mark.parametrize("variation", VARIATIONS)
def test_every_variable_the_chart_sets_is_a_real_setting(variation: str) -> None:
    manifests = rendered(variation)
    settings = {
        info.env_prefix: set(type(info.settings()).model_fields)
        for info in installed_services().values()
    }
    settings["RETAIL_TOPICS_"] = set(TopicSettings.model_fields)
    for name, spec in pod_specs(manifests):
        if spec["containers"][0]["name"] == "kong":
            continue
        for variable in environment_of(manifests, spec):
            prefix = next((p for p in settings if variable.startswith(p)), None)
            assert prefix, f"{name}: {variable} belongs to no service"
            field = variable.removeprefix(prefix).removesuffix("_FILE").lower()
            assert field in settings[prefix], f"{name}: {variable} is not a setting"


def test_secrets_come_from_files_and_never_from_values() -> None:
    for manifest in rendered("prod"):
        assert manifest["kind"] != "Secret"
    for _, spec in pod_specs(rendered("prod")):
        for container in spec["containers"]:
            for variable in container.get("env", []):
                if "SECRET" in variable["name"] or "DATABASE_URL" in variable["name"]:
                    assert variable["name"].endswith("_FILE"), variable
                    assert variable["value"].startswith("/run/secrets/")


# -- jobs, ingress, Kong --------------------------------------------------------------------


def test_migrations_topics_and_clients_run_as_hooks_before_the_services() -> None:
    manifests = rendered("prod")
    hooks = {
        m["metadata"]["name"]: m["metadata"]["annotations"]
        for m in manifests
        if "helm.sh/hook" in m["metadata"].get("annotations", {})
    }
    for info in installed_services().values():
        if info.database:
            job = hooks[f"retail-migrate-{info.name}"]
            assert job["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(hooks["retail-service-clients"]["helm.sh/hook-weight"]) > int(
        hooks["retail-migrate-user"]["helm.sh/hook-weight"]
    )
    assert int(hooks["retail-jobs"]["helm.sh/hook-weight"]) < int(
        hooks["retail-topics"]["helm.sh/hook-weight"]
    )
    (cron,) = of_kind(manifests, "CronJob")
    assert cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "keys", "rotate",
    ]  # fmt: skip


def test_the_ingress_fronts_the_gateway_or_kong_with_tls() -> None:
    (gateway,) = of_kind(rendered("prod"), "Ingress")
    (kong,) = of_kind(rendered("staging-kong"), "Ingress")
    for ingress, front in ((gateway, "gateway"), (kong, "kong")):
        assert ingress["spec"]["ingressClassName"] == "nginx"
        assert ingress["spec"]["tls"][0]["secretName"]
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend["name"] == front
    assert gateway["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"


def test_kong_runs_the_repositorys_declarative_configuration() -> None:
    manifests = rendered("staging-kong")
    config = next(
        m for m in of_kind(manifests, "ConfigMap") if m["metadata"]["name"] == "retail-kong"
    )
    kong = yaml.safe_load(config["data"]["kong.yml"])
    assert kong == yaml.safe_load((ROOT / "deploy" / "kong" / "kong.yml").read_text())
    services = {Path(s["url"]).name.split(":")[0] for s in kong["services"]}
    rendered_services = {s["metadata"]["name"] for s in of_kind(manifests, "Service")}
    assert services <= rendered_services


# -- Flux -----------------------------------------------------------------------------------


def flux_documents() -> list[Manifest]:
    return [
        document
        for path in sorted(FLUX.rglob("*.yaml"))
        if path.name != "kustomization.yaml"
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def test_flux_resources_validate_against_their_crds() -> None:
    documents = flux_documents()
    kinds = {document["kind"] for document in documents}
    assert {
        "GitRepository",
        "HelmRelease",
        "Kustomization",
        "ImageRepository",
        "ImagePolicy",
    } <= kinds
    for document in documents:
        validate(document)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_releases_the_chart_with_its_values(environment: str) -> None:
    done = subprocess.run(
        [tool("kubectl"), "kustomize", str(FLUX / "apps" / environment)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    documents = [d for d in yaml.safe_load_all(done.stdout) if d]
    (release,) = of_kind(documents, "HelmRelease")
    chart = release["spec"]["chart"]["spec"]
    assert (ROOT / chart["chart"]).resolve() == CHART
    promoted = [] if environment == "dev" else [f"./deploy/helm/retail/images-{environment}.yaml"]
    assert chart["valuesFiles"] == [
        "./deploy/helm/retail/values.yaml",
        f"./deploy/helm/retail/values-{environment}.yaml",
        *promoted,
    ]
    for values in chart["valuesFiles"]:
        assert (ROOT / values).exists(), values
    (namespace,) = of_kind(documents, "Namespace")
    assert release["metadata"]["namespace"] == namespace["metadata"]["name"]
    entry = yaml.safe_load((FLUX / "clusters" / environment / "retail.yaml").read_text())
    assert entry["spec"]["path"] == f"./deploy/flux/apps/{environment}"
    automated = of_kind(documents, "ImagePolicy")
    assert bool(automated) == (environment == "dev")


def test_dev_image_automation_has_a_marker_to_update() -> None:
    marker = '# {"$imagepolicy": "flux-system:retail-dev:tag"}'
    assert marker in (CHART / "values-dev.yaml").read_text()
