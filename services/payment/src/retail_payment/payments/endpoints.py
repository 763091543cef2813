from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from retail_kernel.auth import Principal
from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_kernel.pagination import MAX_LIMIT, Page
from retail_kernel.schemas import SafeStr
from retail_payment.deps import Admin, ProvidersDep, Reader
from retail_payment.models import Payment
from retail_payment.payments import service
from retail_payment.payments.exceptions import PaymentNotFound
from retail_payment.payments.repository import PaymentRepository
from retail_payment.payments.schemas import PaymentDetail, PaymentRead, RefundRequest

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])


def _may_read(principal: Principal, payment: Payment) -> bool:
    if principal.has_any_role("admin"):
        return True
    return principal.subject == str(payment.customer_id)


@router.get("", responses=problem_responses(400, 403))
async def list_payments(
    session: SessionDep,
    principal: Reader,
    order_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[SafeStr | None, Query(max_length=500)] = None,
) -> Page[PaymentRead]:
    """Your payments (an admin: the tenant's), newest first, optionally for one order."""
    return await service.list_payments(
        session, principal, order_id=order_id, cursor=cursor, limit=limit
    )


@router.get("/{payment_id}", responses=problem_responses(403, 404))
async def get_payment(payment_id: UUID, session: SessionDep, principal: Reader) -> PaymentDetail:
    """One payment with its history (its owner or an admin)."""
    payment = await PaymentRepository(session).by_id(principal.tenant_id, payment_id)
    if payment is None or not _may_read(principal, payment):
        raise PaymentNotFound()
    return await service.detail(session, payment)


@router.post(
    "/{payment_id}/refund",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(403, 404, 409, 503),
)
async def refund(
    payment_id: UUID,
    body: RefundRequest,
    session: SessionDep,
    admin: Admin,
    providers: ProvidersDep,
) -> PaymentRead:
    """Refund part (``amount``) or all of what is left of a captured payment (admin)."""
    outcome = await service.refund_by_id(
        session,
        providers,
        admin.tenant_id,
        payment_id,
        body.amount,
        source=f"admin:{admin.subject}",
    )
    return outcome.payment
