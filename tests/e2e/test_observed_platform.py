"""The observability layer against the running platform: a real Prometheus scrapes ``retail up``
with the repository's configuration and rules, a real Alertmanager routes to the Notification
service. Every target is up; every recording rule and dashboard query returns data; every
series an alert watches exists; a stopped consumer and a killed service raise their alerts;
a firing alert ends as one message in the operators' local Slack channel."""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import otel_collector
import pytest
import yaml
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from oteltap import OtelTapHttpProtobufReceiver, OtelTapHttpProtobufReceiverSettings

from retail_e2e import Platform, running_platform
from retail_kernel.embedded import free_port
from retail_kernel.local import Home
from retail_kernel.registry import installed_services
from retail_kernel.testing.containers import wait_ready
from retail_kernel.testing.waiting import eventually
from retail_storefront import Storefront

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
TOKEN = "alertmanager-e2e-token"
STEP = "2s"  # scrape and evaluation interval here (15 s and 30 s in production)
# A series an expression selects: a metric of ours or the process', ``up``, or a recorded name.
SELECTOR = re.compile(
    r"(?<![\w:\"$])"
    r"([a-z_][a-z0-9_]*(?::[a-z0-9_]+)+"  # a recorded name (level:metric:operations)
    r"|(?:retail_|process_)[a-z0-9_]+(?![a-z0-9_:])"
    r"|up(?![\w:]))"
    r"(\{[^}]*\})?"
)
T = TypeVar("T")
EVERY_HOP = {f"retail-{name}" for name in ("gateway", "order", "product", "inventory", "payment")}

pytestmark = pytest.mark.timeout(900)


class TelemetrySink:
    """A real OTLP/HTTP receiver (oteltap) on its own thread and event loop: what the services
    export (spans) and the log collector sends (log records), kept for the tests."""

    def __init__(self) -> None:
        self.port = free_port()
        self.spans: list[Span] = []
        self.logs: list[LogRecord] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> "TelemetrySink":
        self._thread.start()
        assert self._ready.wait(30), "the OTLP receiver did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _run(self) -> None:
        settings = OtelTapHttpProtobufReceiverSettings(http_port=self.port)
        async with OtelTapHttpProtobufReceiver(settings) as receiver:
            tasks = [
                asyncio.create_task(self._keep(receiver.stream_traces(), self.spans)),
                asyncio.create_task(self._keep(receiver.stream_logs(), self.logs)),
            ]
            self._ready.set()
            while not self._stop.is_set():
                await asyncio.sleep(0.2)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    async def _keep(stream: AsyncIterator[Any], into: list[Any]) -> None:
        async for item in stream:
            into.append(item)  # noqa: PERF401 - kept as each arrives, not when the stream ends


@dataclass(frozen=True)
class Monitoring:
    platform: Platform
    prometheus: str
    alertmanager: str
    telemetry: TelemetrySink

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": expr}, timeout=30)
        assert answer.status_code == 200, (expr, answer.text)
        result: list[dict[str, Any]] = answer.json()["data"]["result"]
        return result

    def series(self, selector: str) -> list[dict[str, Any]]:
        now = time.time()
        answer = httpx.get(
            f"{self.prometheus}/api/v1/series",
            params={"match[]": selector, "start": now - 900, "end": now},
            timeout=30,
        )
        assert answer.status_code == 200, (selector, answer.text)
        result: list[dict[str, Any]] = answer.json()["data"]
        return result

    def ever_alerted(self, alertname: str, matchers: str = "") -> list[dict[str, Any]]:
        """Pending or firing at some evaluation of the last 15 minutes (Prometheus keeps its
        alerts' states as the ``ALERTS`` series)."""
        extra = f",{matchers}" if matchers else ""
        return self.query(f'max_over_time(ALERTS{{alertname="{alertname}"{extra}}}[15m])')


def _rules(folder: Path) -> list[str]:
    """The repository's rule files, evaluated every STEP."""
    paths = []
    for source in sorted((OBSERVABILITY / "prometheus" / "rules").glob("*.yml")):
        target = folder / source.name
        target.write_text(re.sub(r"interval: \d+s", f"interval: {STEP}", source.read_text()))
        paths.append(str(target))
    return paths


def _prometheus_config(folder: Path, ports: dict[str, int], alertmanager: int) -> Path:
    """The repository's prometheus.yml with this platform's ports and a faster clock."""
    config = yaml.safe_load((OBSERVABILITY / "prometheus" / "prometheus.yml").read_text())
    config["global"] = {
        "scrape_interval": STEP,
        "evaluation_interval": STEP,
        "scrape_timeout": "1s",
    }
    config["rule_files"] = _rules(folder)
    config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [
        f"127.0.0.1:{alertmanager}"
    ]
    for job in config["scrape_configs"]:
        job["static_configs"][0]["targets"] = [f"127.0.0.1:{ports[job['job_name']]}"]
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def _alertmanager_config(folder: Path, notification: int) -> Path:
    token = folder / "notification-token"
    token.write_text(TOKEN)
    text = (OBSERVABILITY / "alertmanager" / "alertmanager.yml").read_text()
    text = text.replace("/etc/alertmanager/secrets/notification-token", str(token))
    text = text.replace("http://notification:8006", f"http://127.0.0.1:{notification}")
    path = folder / "alertmanager.yml"
    path.write_text(text)
    return path


def _platform_env(telemetry: TelemetrySink) -> dict[str, str]:
    """Alertmanager's token, a quick lag watch, and every service exporting its spans."""
    return {
        "RETAIL_NOTIFICATION_ALERTMANAGER_TOKEN": TOKEN,
        "RETAIL_AUDIT_LAG_WATCH_INTERVAL_SECONDS": "2",
        **{
            f"RETAIL_{name.upper()}_OTLP_ENDPOINT": telemetry.endpoint
            for name in installed_services()
        },
    }


def _start(command: list[str], ready: str, log: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which(command[0])
    assert binary, f"{command[0]} is needed (./dev test installs Debian's prometheus packages)"
    with log.open("wb") as output:
        process = subprocess.Popen([binary, *command[1:]], stdout=output, stderr=subprocess.STDOUT)
    wait_ready(ready, timeout=60, path="/-/ready")
    return process


@pytest.fixture(scope="module")
def monitoring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitoring]:
    folder = tmp_path_factory.mktemp("monitoring")
    with (
        TelemetrySink() as telemetry,
        running_platform(tmp_path_factory, env=_platform_env(telemetry)) as platform,
    ):
        am_port, prom_port = free_port(), free_port()
        alertmanager = _start(
            [
                "prometheus-alertmanager",
                f"--config.file={_alertmanager_config(folder, platform.ports['notification'])}",
                f"--storage.path={folder / 'alertmanager'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            f"http://127.0.0.1:{am_port}",
            folder / "alertmanager.log",
        )
        prometheus = _start(
            [
                "prometheus",
                f"--config.file={_prometheus_config(folder, platform.ports, am_port)}",
                f"--storage.tsdb.path={folder / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            f"http://127.0.0.1:{prom_port}",
            folder / "prometheus.log",
        )
        try:
            monitoring = Monitoring(
                platform, f"http://127.0.0.1:{prom_port}", f"http://127.0.0.1:{am_port}", telemetry
            )
            yield monitoring
        finally:
            for process in (prometheus, alertmanager):
                process.terminate()
                process.wait(timeout=30)


@dataclass
class Shop:
    """A customer, a stocked product just above its low-stock threshold, and the storefront."""

    front: Storefront
    customer: dict[str, str]
    product: str

    def order(self, card: str = "tok_visa") -> str:
        return self.front.order(self.customer, self.product, card=card)

    def status(self, order_id: str) -> str:
        return self.front.status(self.customer, order_id)


@pytest.fixture(scope="module")
def shop(monitoring: Monitoring) -> Iterator[Shop]:
    """Traffic that makes every watched series exist: orders confirmed and declined, a
    low-stock crossing, a failed login."""
    monitoring.platform.create_admin()
    with httpx.Client(base_url=monitoring.platform.url("gateway"), timeout=30) as http:
        front = Storefront(http)
        admin = front.log_in("root")
        shop = Shop(front, front.sign_up("obs"), front.stock(admin, "OBS-1", 40))
        threshold = http.put(
            "/api/v1/inventory/thresholds", json={"sku": "OBS-1", "threshold": 38}, headers=admin
        )
        assert threshold.status_code == 200, threshold.text
        placed = [shop.order() for _ in range(3)] + [shop.order("tok_decline")]
        for order_id in placed:
            front.final(shop.customer, order_id)
        failed = http.post("/api/v1/users/login", json={"username": "obs", "password": "wrong!"})
        assert failed.status_code == 401
        yield shop


def test_every_target_is_up(monitoring: Monitoring, shop: Shop) -> None:
    del shop  # its traffic made the series

    def all_up() -> list[dict[str, Any]] | None:
        targets = httpx.get(f"{monitoring.prometheus}/api/v1/targets").json()["data"]
        active = targets["activeTargets"]
        return active if active and all(t["health"] == "up" for t in active) else None

    active = eventually(all_up, "every target up")
    assert {target["labels"]["job"] for target in active} == set(monitoring.platform.ports)


def _still_without(items: list[T], data: Callable[[T], list[dict[str, Any]]]) -> list[T]:
    """The items for which ``data`` still finds nothing once rules have had time to run
    (new series appear with the next scrapes and evaluations)."""
    deadline = time.monotonic() + 150
    missing = items
    while missing and time.monotonic() < deadline:
        missing = [item for item in missing if not data(item)]
        if missing:
            time.sleep(2)
    return missing


def _rule_files() -> list[dict[str, Any]]:
    return [
        rule
        for path in sorted((OBSERVABILITY / "prometheus" / "rules").glob("*.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def test_every_recording_rule_returns_data(monitoring: Monitoring, shop: Shop) -> None:
    del shop  # its traffic made the series
    records = sorted({rule["record"] for rule in _rule_files() if "record" in rule})
    empty = _still_without(records, monitoring.query)
    assert empty == [], f"recording rules without data: {empty}"


def test_every_series_an_alert_watches_exists(monitoring: Monitoring, shop: Shop) -> None:
    del shop  # its traffic made the series
    selectors = {
        found.group(0)
        for rule in _rule_files()
        if "alert" in rule
        for found in SELECTOR.finditer(rule["expr"])
    }
    assert len(selectors) > 15
    absent = _still_without(sorted(selectors), monitoring.series)
    assert absent == [], f"alerts watch series that do not exist: {absent}"


def test_every_dashboard_panel_returns_data(monitoring: Monitoring, shop: Shop) -> None:
    del shop  # its traffic made the series
    queries = {
        (board.name, panel["title"], target["expr"])
        for board in (OBSERVABILITY / "grafana").glob("*.json")
        for panel in json.loads(board.read_text())["panels"]
        for target in panel["targets"]
    }
    empty = _still_without(sorted(queries), lambda query: monitoring.query(query[2]))
    assert empty == [], f"panels without data: {empty}"


def test_every_metric_a_runbook_queries_is_exported(monitoring: Monitoring, shop: Shop) -> None:
    del shop  # its traffic made the series
    exported = {
        family
        for port in monitoring.platform.ports.values()
        for family in re.findall(
            r"^# TYPE (\S+) ", httpx.get(f"http://127.0.0.1:{port}/metrics").text, re.MULTILINE
        )
    }
    exported |= {
        f"{name}{suffix}" for name in exported for suffix in ("_total", "_bucket", "_count", "_sum")
    }
    for runbook in sorted((ROOT / "docs" / "runbooks").glob("*.md")):
        for block in re.findall(r"```promql\n(.*?)```", runbook.read_text(), re.DOTALL):
            for found in SELECTOR.finditer(block):
                name = found.group(1)
                if ":" in name or name == "up":
                    continue  # recorded by the rules, or Prometheus' own
                assert name in exported, f"{runbook.name}: {name} is exported by no service"


def _attributes(item: Span | LogRecord) -> dict[str, str]:
    return {a.key: a.value.string_value for a in item.attributes}


def test_one_order_is_one_trace_across_the_services(monitoring: Monitoring, shop: Shop) -> None:
    order_id = shop.order()
    eventually(lambda: shop.status(order_id) == "CONFIRMED" or None, "the order to be confirmed")

    def traced() -> set[str] | None:
        roots = [
            span for span in list(monitoring.telemetry.spans)
            if _attributes(span).get("service.name") == "retail-gateway"
            and span.name == "POST order" and not span.parent_span_id
        ]  # fmt: skip
        for root in roots:
            services = {
                _attributes(span).get("service.name", "")
                for span in list(monitoring.telemetry.spans)
                if span.trace_id == root.trace_id
            }
            if {
                f"retail-{s}" for s in ("gateway", "order", "product", "inventory", "payment")
            } <= services:
                return services
        return None

    services = eventually(traced, "one trace from the gateway through every service", timeout=60)
    assert "retail-order" in services


def test_the_collector_ships_json_logs_with_their_correlation_and_trace_ids(
    monitoring: Monitoring, shop: Shop, tmp_path: Path
) -> None:
    collector = Path(otel_collector.__file__).parent / "bin" / "otelcol-contrib_linux_amd64"
    source = yaml.safe_load((OBSERVABILITY / "otel" / "logs-filelog.yaml").read_text())
    receiver = source["receivers"]["filelog"]
    receiver["include"] = [str(monitoring.platform.home / "logs" / "order.log")]
    receiver["start_at"] = "beginning"
    # retail up writes the JSON lines themselves (no container runtime's line format around them).
    receiver["operators"] = [op for op in receiver["operators"] if op["type"] != "container"]
    # The receiver here takes uncompressed bodies only (the collector gzips by default).
    test_exporter = {"endpoint": monitoring.telemetry.endpoint, "compression": "none"}
    source["exporters"] = {"otlphttp/test": test_exporter}
    source["processors"] = {"batch": {"timeout": "200ms"}}
    source["service"]["pipelines"]["logs"].update(processors=["batch"], exporters=["otlphttp/test"])
    source["service"]["telemetry"] = {"metrics": {"level": "none"}}
    config = tmp_path / "collector.yaml"
    config.write_text(yaml.safe_dump(source))
    with (tmp_path / "collector.log").open("wb") as output:
        process = subprocess.Popen(
            [str(collector), "--config", str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        shop.order()  # lines with a request's correlation and trace ids

        def shipped() -> dict[str, str] | None:
            for record in list(monitoring.telemetry.logs):
                fields = _attributes(record)
                if fields.get("correlation_id") and fields.get("trace_id"):
                    return fields
            return None

        fields = eventually(shipped, "a log record with its correlation and trace ids", timeout=60)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert fields["service"] == "order"
    assert re.fullmatch(r"[0-9a-f]{32}", fields["trace_id"])


# The disruptive tests last: they stop and kill services of the module's platform.


def _pid(monitoring: Monitoring, service: str) -> int:
    state = Home(monitoring.platform.home).read_state()
    assert state is not None
    return int(state["services"][service]["pid"])


def test_a_stopped_consumer_raises_its_alerts_and_reaches_the_operators_once(
    monitoring: Monitoring, shop: Shop
) -> None:
    inventory = _pid(monitoring, "inventory")
    os.kill(inventory, signal.SIGSTOP)  # alive to its supervisor, answering nothing
    try:
        placed = [shop.order() for _ in range(3)]
        stalled = eventually(
            lambda: monitoring.ever_alerted("RetailConsumerStalled", 'group="inventory-commands"'),
            "the stalled-consumer alert",
        )
        assert stalled[0]["metric"]["topic"] == "retail.inventory.commands"
        # Down for more than its "for" (1 minute): firing, routed, delivered.
        eventually(
            lambda: monitoring.query(
                'ALERTS{alertname="RetailTargetDown",job="inventory",alertstate="firing"}'
            ),
            "the target-down alert to fire",
            timeout=150,
        )
        slack = monitoring.platform.home / "notifications" / "slack"
        firing = eventually(
            lambda: _alert_messages(slack, "FIRING"), "the alert in Slack", timeout=120
        )
    finally:
        os.kill(inventory, signal.SIGCONT)
    eventually(
        lambda: all(shop.status(o) in {"CONFIRMED", "REJECTED"} for o in placed),
        "the orders placed meanwhile to end",
    )
    time.sleep(5)  # time enough for a repeat to arrive, were it sent twice
    assert len(_alert_messages(slack, "FIRING")) == len(firing) == 1


def _alert_messages(folder: Path, status: str) -> list[dict[str, Any]]:
    found = []
    for path in folder.glob("*.json") if folder.exists() else ():
        message = json.loads(path.read_text())
        if f"[{status}] RetailTargetDown" in message["body"] and "inventory" in message["body"]:
            found.append(message)
    return found


def test_a_service_that_stops_answering_raises_target_down(monitoring: Monitoring) -> None:
    # Frozen rather than killed: ``retail up`` restarts a killed service, at times before the
    # next scrape could find it gone (then no alert is due, and none comes).
    product = _pid(monitoring, "product")
    os.kill(product, signal.SIGSTOP)
    try:
        alerted = eventually(
            lambda: monitoring.ever_alerted("RetailTargetDown", 'job="product"'),
            "the target-down alert for product",
        )
    finally:
        os.kill(product, signal.SIGCONT)
    assert alerted
