from uuid import UUID

from fastapi import APIRouter, Request, Response, status

from retail_inventory.deps import Service, StaffOrService, settings_of
from retail_inventory.reservations import service
from retail_inventory.reservations.exceptions import InsufficientStock
from retail_inventory.reservations.schemas import ReservationRead, ReservationRef, ReserveRequest
from retail_kernel.clock import Now, request_time
from retail_kernel.db import SessionDep, request_database
from retail_kernel.driver import driver_transaction
from retail_kernel.openapi import problem_responses

router = APIRouter(prefix="/api/v1/inventory", tags=["reservations"])


# Reserve and release, the service's hottest endpoints, read the database, the settings and the
# clock from the request instead of declaring them as dependencies: FastAPI solves every dependency
# again on every request, and for these two that was a noticeable part of their Python.


@router.post("/reserve", status_code=status.HTTP_201_CREATED, responses=problem_responses(403, 409))
async def reserve(
    body: ReserveRequest, caller: Service, request: Request, response: Response
) -> ReservationRead:
    """Hold stock for an order, every line or none; 409 lists the short lines (service)."""
    ttl = settings_of(request).reservation_ttl_seconds
    now = request_time(request)
    # Usually one statement does it all (atomic by itself); the service opens a transaction
    # when it needs several.
    async with driver_transaction(request_database(request), begin=False) as transaction:
        outcome = await service.reserve(
            transaction, caller.tenant_id, caller.subject, body, default_ttl=ttl, now=now
        )
    answer = outcome.reservation
    if answer.status == "FAILED":
        raise InsufficientStock(answer.short_lines or [])
    response.headers["Location"] = f"/api/v1/inventory/reservations/{answer.reservation_id}"
    return answer


@router.post("/release", responses=problem_responses(403, 404, 409))
async def release(body: ReservationRef, caller: Service, request: Request) -> ReservationRead:
    """Give a reservation's stock back; repeating it changes nothing (service)."""
    now = request_time(request)
    async with driver_transaction(request_database(request), begin=False) as transaction:
        outcome = await service.release(transaction, caller.tenant_id, body.reservation_id, now=now)
    return outcome.reservation


@router.post("/commit", responses=problem_responses(403, 404, 409))
async def commit(
    body: ReservationRef, session: SessionDep, caller: Service, now: Now
) -> ReservationRead:
    """Ship a held reservation: stock leaves on-hand, the ledger records the sale (service)."""
    outcome = await service.commit(
        session, caller.tenant_id, caller.subject, body.reservation_id, now=now
    )
    return outcome.reservation


@router.get("/reservations/{reservation_id}", responses=problem_responses(403, 404))
async def get_reservation(
    reservation_id: UUID, session: SessionDep, caller: StaffOrService
) -> ReservationRead:
    """One reservation with its lines (staff or service)."""
    return await service.get_reservation(session, caller.tenant_id, reservation_id)
