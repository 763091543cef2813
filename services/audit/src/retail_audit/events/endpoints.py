from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from retail_audit.events import service
from retail_audit.events.schemas import AuditEventRead
from retail_kernel.auth import Principal, require_roles
from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_kernel.pagination import MAX_LIMIT, Page
from retail_kernel.schemas import SafeStr

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Admin = Annotated[Principal, Depends(require_roles("admin"))]


@router.get("/events", response_model=Page[AuditEventRead], responses=problem_responses(400, 403))
async def list_events(
    request: Request,
    session: SessionDep,
    admin: Admin,
    type: Annotated[SafeStr | None, Query(max_length=200)] = None,  # noqa: A002 - API.md's name
    subject: Annotated[SafeStr | None, Query(max_length=200)] = None,
    tenant: Annotated[SafeStr | None, Query(max_length=64)] = None,
    correlation_id: Annotated[SafeStr | None, Query(max_length=128)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[SafeStr | None, Query(max_length=500)] = None,
) -> object:
    """Every domain event as received, in order (the admin's tenant; operators: any); one
    request's whole story by its correlation id."""
    return await service.list_events(
        session,
        admin,
        operators_tenant=request.app.state.settings.operators_tenant,
        tenant=tenant,
        event_type=type,
        subject=subject,
        correlation_id=correlation_id,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
