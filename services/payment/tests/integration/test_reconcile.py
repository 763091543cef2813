"""Reconciliation finds every kind of mismatch against the fakes, and nothing when the books
agree — through the service's code and through ``retail payments reconcile``."""

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from typer.testing import CliRunner

from retail_cli.main import app as cli
from retail_kernel.events import new_id
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_payment.main import create_app
from retail_payment.models import FakeProviderObject, Payment
from retail_payment.payments import service
from retail_payment.payments.reconcile import Mismatch, reconcile
from retail_payment.testing.factories import authorize, capture, make_payment_settings
from retail_payment.testing.stripe_fake import StripeState, create_stripe_fake

KEY = "sk_test_fake"


async def run_reconcile(app: FastAPI) -> list[Mismatch]:
    since = datetime.now(UTC) - timedelta(hours=1)
    async with app.state.database.transaction() as session:
        return await reconcile(session, app.state.resources.providers, since)


async def refund(app: FastAPI, payment: Payment, amount: int) -> None:
    async with app.state.database.transaction() as session:
        await service.refund_by_id(
            session,
            app.state.resources.providers,
            payment.tenant_id,
            payment.id,
            amount,
            source="test",
        )


async def tamper(app: FastAPI, payment: Payment, **values: object) -> None:
    async with app.state.database.transaction() as session:
        await session.execute(update(Payment).where(Payment.id == payment.id).values(**values))


async def books_with_every_kind_of_mismatch(app: FastAPI) -> dict[str, str]:
    """Fake-provider payments, four of them made to disagree; returns their refs by kind."""
    consistent = await capture(app, await authorize(app, uuid.uuid4(), amount=1000))
    await refund(app, consistent, 300)
    await authorize(app, uuid.uuid4(), token="tok_decline")
    wrong_amount = await authorize(app, uuid.uuid4(), amount=500)
    await tamper(app, wrong_amount, amount=5000)
    wrong_status = await capture(app, await authorize(app, uuid.uuid4()))
    await tamper(app, wrong_status, status="VOIDED")
    async with app.state.database.transaction() as session:
        unknown_here = "pi_fake_nobody_told_us"
        await session.execute(
            insert(FakeProviderObject).values(
                idempotency_key="elsewhere:authorize:1",
                response={"outcome": "authorized", "ref": unknown_here, "amount": 700},
            )
        )
        session.add(
            Payment(
                id=new_id(),
                tenant_id="default",
                order_id=uuid.uuid4(),
                customer_id=uuid.uuid4(),
                provider="fake",
                provider_ref="pi_fake_never_made",
                status="AUTHORIZED",
                amount=100,
                currency="EUR",
                captured_amount=0,
                refunded_amount=0,
            )
        )
    return {
        "amount_differs": str(wrong_amount.provider_ref),
        "status_differs": str(wrong_status.provider_ref),
        "missing_here": unknown_here,
        "missing_at_provider": "pi_fake_never_made",
    }


class TestReconcile:
    async def test_every_kind_of_mismatch_is_found_and_nothing_else(self, app: FastAPI) -> None:
        expected = await books_with_every_kind_of_mismatch(app)
        found = await run_reconcile(app)
        assert {(m.kind, m.ref) for m in found} == {(k, ref) for k, ref in expected.items()}
        by_kind = {m.kind: m for m in found}
        assert (by_kind["amount_differs"].ours, by_kind["amount_differs"].theirs) == ("5000", "500")
        assert (by_kind["status_differs"].ours, by_kind["status_differs"].theirs) == (
            "VOIDED",
            "CAPTURED",
        )

    async def test_stripe_books_that_agree_have_no_mismatch_and_a_stranger_is_found(
        self,
        stripe_api: tuple[str, StripeState],
        retail_db: ServiceDatabases,
        retail_infra: RetailInfra,
    ) -> None:
        base, state = stripe_api
        settings = make_payment_settings(
            retail_db.url("payment"),
            retail_infra.bootstrap_servers,
            stripe_api_key=KEY,
            stripe_api_base=base,
            default_provider="stripe",
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            payment = await capture(app, await authorize(app, uuid.uuid4(), token="pm_card_visa"))
            await refund(app, payment, 100)
            await authorize(app, uuid.uuid4(), token="pm_card_visa")
            assert await run_reconcile(app) == []
            state.intents["pi_made_in_the_dashboard"] = {
                "id": "pi_made_in_the_dashboard",
                "object": "payment_intent",
                "amount": 4200,
                "currency": "eur",
                "status": "succeeded",
                "created": int(datetime.now(UTC).timestamp()),
            }
            found = await run_reconcile(app)
        assert [(m.kind, m.ref) for m in found] == [("missing_here", "pi_made_in_the_dashboard")]


@pytest.fixture
def stripe_api() -> Iterator[tuple[str, StripeState]]:
    fake, state = create_stripe_fake(KEY)
    with threaded_server(fake) as base:
        yield base, state


@pytest.fixture
async def mismatched_books(app: FastAPI) -> AsyncIterator[dict[str, str]]:
    yield await books_with_every_kind_of_mismatch(app)


def test_the_cli_reports_mismatches_and_fails(
    mismatched_books: dict[str, str],
    retail_db: ServiceDatabases,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
) -> None:
    monkeypatch.setenv("RETAIL_PAYMENT_DATABASE_URL", retail_db.url("payment"))
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    result = CliRunner().invoke(
        cli,
        ["payments", "reconcile", "--since", since, "--home", str(tmp_path)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 1, result.output
    for kind, ref in mismatched_books.items():
        assert kind in result.output
        assert ref in result.output
