"""Observability as code: the SLO rules and the Grafana dashboards, generated.

    python deploy/observability/generate.py          # writes them
    python deploy/observability/generate.py --check  # exit 1 if a written file is stale

``prometheus/slos.yml`` holds the objectives; this writes ``prometheus/rules/slo.yml``
(error and slowness ratios over the SRE workbook's windows, and its four burn-rate alert pairs
per objective) and ``grafana/*.json`` (overview, messaging, one per service). The tests run
``--check`` and query every rule and panel against a live Prometheus.
"""

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
RUNBOOKS = "https://github.com/retail-platform/retail/blob/main/docs/runbooks"
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# (severity, long window, short window, burn rate, for): the workbook's multiwindow alerts.
BURNS = (
    ("page", "1h", "5m", 14.4, "2m"),
    ("page", "6h", "30m", 6.0, "15m"),
    ("ticket", "1d", "2h", 3.0, "1h"),
    ("ticket", "3d", "6h", 1.0, "3h"),
)
WITH_DATABASE = ("user", "product", "inventory", "order", "payment", "notification", "audit")
WITH_CONSUMERS = ("inventory", "order", "payment", "notification", "audit")

Rule = dict[str, Any]


def _le(seconds: float) -> str:
    """A bucket bound as prometheus_client writes it in the ``le`` label."""
    return repr(float(seconds))


def slo_rules(slos: dict[str, Any]) -> dict[str, Any]:
    records: list[Rule] = []
    for window in WINDOWS:
        total = f"sum by (job) (rate(retail_http_requests_total[{window}]))"
        errors = f'sum by (job) (rate(retail_http_requests_total{{status=~"5.."}}[{window}]))'
        records.append(
            {
                "record": f"job:slo_errors:ratio_rate{window}",
                # No 5xx yet is a ratio of 0, not an absent series.
                "expr": f"({errors} or {total} * 0) / {total}",
            }
        )
    for service, objective in slos["services"].items():
        bound = _le(objective["latency_seconds"])
        for window in WINDOWS:
            fast = (
                f'sum by (job) (rate(retail_http_request_duration_seconds_bucket{{job="{service}",'
                f'le="{bound}"}}[{window}]))'
            )
            count = (
                f'sum by (job) (rate(retail_http_request_duration_seconds_count{{job="{service}"}}'
                f"[{window}]))"
            )
            records.append(
                {
                    "record": f"job:slo_slow:ratio_rate{window}",
                    "expr": f"1 - {fast} / {count}",
                    "labels": {"job": service},
                }
            )
    alerts = [
        alert
        for service, objective in slos["services"].items()
        for alert in _burn_alerts(service, objective)
    ]
    return {
        "groups": [
            {"name": "retail-slo-ratios", "interval": "30s", "rules": records},
            {"name": "retail-slo-alerts", "rules": alerts},
        ]
    }


def _burn_alerts(service: str, objective: dict[str, Any]) -> list[Rule]:
    alerts = []
    for kind, ratio, target in (
        ("Availability", "errors", objective["availability"]),
        ("Latency", "slow", objective["latency"]),
    ):
        budget = round(1 - target, 6)
        for severity in ("page", "ticket"):
            pairs = [
                f'(job:slo_{ratio}:ratio_rate{long}{{job="{service}"}} > {rate * budget:g} and '
                f'job:slo_{ratio}:ratio_rate{short}{{job="{service}"}} > {rate * budget:g})'
                for level, long, short, rate, _ in BURNS
                if level == severity
            ]
            wait = next(wait for level, *_, wait in BURNS if level == severity)
            pace = "fast" if severity == "page" else "steadily"
            what = (
                "answers with 5xx"
                if ratio == "errors"
                else f"answers slower than {objective['latency_seconds']} s"
            )
            alerts.append(
                {
                    "alert": f"RetailSLO{kind}{'FastBurn' if severity == 'page' else 'SlowBurn'}",
                    "expr": " or ".join(pairs),
                    "for": wait,
                    "labels": {"severity": severity, "service": service, "slo": kind.lower()},
                    "annotations": {
                        "summary": (
                            f"{service}: {what} too often for its {target:.1%} objective "
                            f"(the error budget burns {pace})"
                        ),
                        "runbook_url": f"{RUNBOOKS}/slo-{kind.lower()}.md",
                    },
                }
            )
    return alerts


# -- dashboards -------------------------------------------------------------------------------


def _panel(title: str, exprs: list[tuple[str, str]], unit: str = "short") -> Rule:
    return {
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {
                "refId": chr(ord("A") + n),
                "expr": expr,
                "legendFormat": legend,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
            }
            for n, (expr, legend) in enumerate(exprs)
        ],
    }


def _dashboard(uid: str, title: str, panels: list[Rule]) -> Rule:
    for number, panel in enumerate(panels):
        panel["id"] = number + 1
        panel["gridPos"] = {"h": 8, "w": 12, "x": 12 * (number % 2), "y": 8 * (number // 2)}
    return {
        "uid": uid,
        "title": title,
        "tags": ["retail"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                }
            ]
        },
        "panels": panels,
    }


def overview() -> Rule:
    return _dashboard(
        "retail-overview",
        "Retail — overview",
        [
            _panel(
                "Requests per second, by service",
                [("sum by (job) (rate(retail_http_requests_total[5m]))", "{{job}}")],
                "reqps",
            ),
            _panel(
                "Share of 5xx answers, by service",
                [("job:slo_errors:ratio_rate5m", "{{job}}")],
                "percentunit",
            ),
            _panel(
                "p99 latency, by service",
                [
                    (
                        "histogram_quantile(0.99, sum by (job, le) "
                        "(rate(retail_http_request_duration_seconds_bucket[5m])))",
                        "{{job}}",
                    )
                ],
                "s",
            ),
            _panel(
                "Requests in flight, by service",
                [("sum by (job) (retail_http_requests_in_progress)", "{{job}}")],
            ),
            _panel(
                "Orders per second, by status",
                [("status:retail_orders_status_changes:rate5m", "{{status}}")],
                "ops",
            ),
            _panel(
                "Saga duration (placed → final)",
                [
                    ("retail_order_saga_seconds:p99_10m", "p99"),
                    (
                        "histogram_quantile(0.5, sum by (le) "
                        "(rate(retail_order_saga_seconds_bucket[10m])))",
                        "p50",
                    ),
                ],
                "s",
            ),
            _panel("Targets up", [("up", "{{job}} {{instance}}")]),
        ],
    )


def messaging() -> Rule:
    return _dashboard(
        "retail-messaging",
        "Retail — messaging",
        [
            _panel("Outbox backlog, by service", [("retail_outbox_backlog", "{{job}}")]),
            _panel(
                "Events published per second, by type",
                [
                    (
                        "sum by (event_type) (rate(retail_outbox_published_total[5m]))",
                        "{{event_type}}",
                    )
                ],
                "ops",
            ),
            _panel(
                "Consumer group lag (broker)",
                [("group_topic:retail_consumer_group_lag:max", "{{group}} {{topic}}")],
            ),
            _panel(
                "Records handled per second, by consumer",
                [("consumer:retail_consumer_messages_handled:rate5m", "{{consumer}}")],
                "ops",
            ),
            _panel(
                "Dead letters and retries (10 min)",
                [
                    (
                        "sum by (consumer, outcome) (increase(retail_consumer_messages_total"
                        '{outcome=~"dead_lettered|retried"}[10m]))',
                        "{{consumer}} {{outcome}}",
                    )
                ],
            ),
            _panel(
                "Broker produce errors (5 min)",
                [("sum by (job) (increase(retail_kafka_produce_errors_total[5m]))", "{{job}}")],
            ),
        ],
    )


def service_dashboard(service: str) -> Rule:
    job = f'job="{service}"'
    panels = [
        _panel(
            "Requests per second, by route",
            [
                (
                    f"sum by (method, route) (rate(retail_http_requests_total{{{job}}}[5m]))",
                    "{{method}} {{route}}",
                )
            ],
            "reqps",
        ),
        _panel(
            "Answers per second, by status",
            [(f"sum by (status) (rate(retail_http_requests_total{{{job}}}[5m]))", "{{status}}")],
            "reqps",
        ),
        _panel(
            "p99 latency, by route",
            [(f"job_route:retail_http_request_duration_seconds:p99_5m{{{job}}}", "{{route}}")],
            "s",
        ),
        _panel("CPU (cores)", [(f"rate(process_cpu_seconds_total{{{job}}}[5m])", "{{instance}}")]),
        _panel(
            "Resident memory",
            [(f"process_resident_memory_bytes{{{job}}}", "{{instance}}")],
            "bytes",
        ),
        _panel(
            "Requests in flight",
            [(f"retail_http_requests_in_progress{{{job}}}", "{{instance}}")],
        ),
    ]
    if service in WITH_DATABASE:
        panels.append(
            _panel(
                "Database connections",
                [
                    (f"sum(retail_db_pool_connections_in_use{{{job}}})", "in use"),
                    (f"sum(retail_db_pool_connections_max{{{job}}})", "max"),
                    (f"sum(retail_db_pool_waiting{{{job}}})", "waiting"),
                ],
            )
        )
        panels.append(_panel("Outbox backlog", [(f"retail_outbox_backlog{{{job}}}", "backlog")]))
    if service in WITH_CONSUMERS:
        panels.append(
            _panel(
                "Records handled per second, by consumer",
                [
                    (
                        f"consumer:retail_consumer_messages_handled:rate5m{{{job}}}",
                        "{{consumer}}",
                    )
                ],
                "ops",
            )
        )
    return _dashboard(f"retail-{service}", f"Retail — {service}", panels)


def outputs() -> dict[Path, str]:
    slos = yaml.safe_load((HERE / "prometheus" / "slos.yml").read_text())
    header = "# Generated by deploy/observability/generate.py from slos.yml: do not edit.\n"
    files = {
        HERE / "prometheus" / "rules" / "slo.yml": header
        + yaml.safe_dump(slo_rules(slos), sort_keys=False, width=200),
    }
    dashboards = {"overview": overview(), "messaging": messaging()}
    dashboards |= {service: service_dashboard(service) for service in slos["services"]}
    for name, dashboard in dashboards.items():
        path = HERE / "grafana" / f"{name}.json"
        files[path] = json.dumps(dashboard, indent=2, sort_keys=True) + "\n"
    return files


def main(argv: list[str]) -> int:
    stale = [
        path for path, text in outputs().items() if not path.exists() or path.read_text() != text
    ]
    if "--check" in argv:
        for path in stale:
            sys.stderr.write(f"stale: {path.relative_to(HERE)} (run generate.py)\n")
        return 1 if stale else 0
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
