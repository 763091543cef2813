"""Reconciliation: our payments against the providers' records.

A mismatch is money we cannot account for: the provider has a payment we do not
(``missing_here``), we have one the provider does not (``missing_at_provider``), or the two
disagree on the amount or the state.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from retail_payment.models import Payment
from retail_payment.payments.repository import PaymentRepository
from retail_payment.providers.base import PaymentProvider, ProviderRecord
from retail_payment.providers.registry import Providers

Kind = Literal["missing_here", "missing_at_provider", "amount_differs", "status_differs"]
CAPTURED_FAMILY = frozenset({"CAPTURED", "PARTIALLY_REFUNDED", "REFUNDED"})


@dataclass(frozen=True)
class Mismatch:
    kind: Kind
    provider: str
    ref: str
    ours: str | None
    theirs: str | None


async def reconcile(session: AsyncSession, providers: Providers, since: datetime) -> list[Mismatch]:
    """Every mismatch for payments made since ``since``, provider by provider."""
    found: list[Mismatch] = []
    repository = PaymentRepository(session)
    for name, provider in sorted(providers.by_name.items()):
        ours = {p.provider_ref: p for p in await repository.since(name, since) if p.provider_ref}
        theirs = await _records(provider, since, list(ours))
        for ref, payment in ours.items():
            record = theirs.get(ref)
            if record is None:
                if payment.status != "FAILED":  # a refused payment may leave nothing behind
                    found.append(Mismatch("missing_at_provider", name, ref, payment.status, None))
                continue
            found += _compare(name, payment, record)
        found += [
            Mismatch("missing_here", name, ref, None, f"{record.status} {record.amount}")
            for ref, record in theirs.items()
            if ref not in ours
        ]
    return found


async def _records(
    provider: PaymentProvider, since: datetime, refs: list[str]
) -> dict[str, ProviderRecord]:
    listed = await provider.records_since(since)
    if listed is None:  # the provider cannot list: look ours up one by one
        listed = [record for ref in refs if (record := await provider.lookup(ref)) is not None]
    return {record.ref: record for record in listed}


def _compare(name: str, payment: Payment, record: ProviderRecord) -> list[Mismatch]:
    ref = record.ref
    found: list[Mismatch] = []
    if payment.amount != record.amount:
        found.append(Mismatch("amount_differs", name, ref, str(payment.amount), str(record.amount)))
    same = payment.status == record.status or (
        not record.tracks_refunds
        and record.status == "CAPTURED"
        and payment.status in CAPTURED_FAMILY
    )
    if not same:
        found.append(Mismatch("status_differs", name, ref, payment.status, record.status))
    return found
