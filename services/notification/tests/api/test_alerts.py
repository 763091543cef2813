"""Alertmanager's webhook: an alert becomes one message per operators' channel, delivered
through the real transports (here the providers' fakes); repeats make nothing new, resolving
makes a new message; only Alertmanager's token gets in."""

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from retail_notification.testing.factories import all_settled, messages, wait_for_messages
from retail_notification.testing.fixtures import Fakes

ALERTS = "/api/v1/notifications/alerts"
TOKEN = "alertmanager-test-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    return {"alertmanager_token": TOKEN}


def batch(status: str = "firing", fingerprint: str = "a1b2c3d4") -> dict[str, Any]:
    """A webhook body as Alertmanager 0.25 posts it (version 4)."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="RetailTargetDown"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "operators-critical",
        "groupLabels": {"alertname": "RetailTargetDown"},
        "commonLabels": {"alertname": "RetailTargetDown", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": {
                    "alertname": "RetailTargetDown",
                    "severity": "critical",
                    "job": "order",
                    "instance": "10.0.0.7:8004",
                },
                "annotations": {
                    "summary": "order: 10.0.0.7:8004 does not answer Prometheus",
                    "runbook_url": "https://example.com/docs/runbooks/target-down.md",
                },
                "startsAt": "2026-12-06T12:00:00.000Z",
                "endsAt": "0001-01-01T00:00:00Z"
                if status == "firing"
                else datetime.now(UTC).isoformat(),
                "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
                "fingerprint": fingerprint,
            }
        ],
    }


class TestAlertWebhook:
    async def test_an_alert_reaches_each_channel_once_and_its_resolution_once_more(
        self, app: FastAPI, client: httpx.AsyncClient, fakes: Fakes
    ) -> None:
        first = await client.post(f"{ALERTS}?channels=slack,email", json=batch(), headers=BEARER)
        assert first.status_code == 200, first.text
        assert first.json() == {"received": 1, "new_messages": 2}
        again = await client.post(f"{ALERTS}?channels=slack,email", json=batch(), headers=BEARER)
        assert again.json() == {"received": 1, "new_messages": 0}  # Alertmanager's repeat
        delivered = await wait_for_messages(app, all_settled)
        assert {(m.channel, m.status) for m in delivered} == {("slack", "SENT"), ("email", "SENT")}
        slack = fakes.state.of("slack")
        assert len(slack) == 1
        text = str(slack[0].body)
        assert "[FIRING] RetailTargetDown (critical): order" in text
        assert "target-down.md" in text

        resolved = await client.post(
            f"{ALERTS}?channels=slack", json=batch("resolved"), headers=BEARER
        )
        assert resolved.json() == {"received": 1, "new_messages": 1}
        await wait_for_messages(app, lambda found: len(found) == 3 and all_settled(found))
        assert "[RESOLVED]" in str(fakes.state.of("slack")[-1].body)

    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    )
    async def test_without_alertmanagers_token_nothing_is_made(
        self, app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        refused = await client.post(ALERTS, json=batch(), headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert await messages(app) == []

    async def test_bad_channels_or_bodies_are_refused_with_422(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        for url, body in (
            (f"{ALERTS}?channels=slack,customer", batch()),
            (f"{ALERTS}?channels=", batch()),
            (ALERTS, {**batch(), "version": "3"}),
            (ALERTS, {**batch(), "alerts": []}),
            (ALERTS, {**batch(), "alerts": [{"status": "firing"}]}),
        ):
            answer = await client.post(url, json=body, headers=BEARER)
            assert answer.status_code == 422, (url, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
        assert await messages(app) == []
