"""The audit log: keep every event once; list them for admins."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from retail_audit.events import domain
from retail_audit.events.exceptions import OtherTenant
from retail_audit.events.repository import AuditRepository
from retail_audit.events.schemas import AuditEventRead
from retail_contracts.envelope import CloudEvent
from retail_kernel.auth import Principal
from retail_kernel.errors import BadRequest
from retail_kernel.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor


async def keep(session: AsyncSession, event: CloudEvent) -> bool:
    """Store the event as received (secrets redacted); a second delivery stores nothing."""
    return await AuditRepository(session).keep(
        {
            "id": event.id,
            "type": event.type,
            "source": event.source,
            "subject": event.subject,
            "tenant_id": event.tenantid,
            "actor": event.actor,
            "correlation_id": event.correlationid,
            "time": event.time,
            "data": domain.redacted(event.type, event.data),
        }
    )


async def list_events(
    session: AsyncSession,
    principal: Principal,
    *,
    operators_tenant: str,
    tenant: str | None,
    event_type: str | None,
    subject: str | None,
    correlation_id: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[AuditEventRead]:
    try:
        scope = domain.tenant_scope(principal.tenant_id, tenant, operators_tenant=operators_tenant)
    except PermissionError as exc:
        raise OtherTenant(str(exc)) from exc
    limit = min(limit, MAX_LIMIT)
    rows = await AuditRepository(session).page(
        tenant_id=scope,
        event_type=event_type,
        subject=subject,
        correlation_id=correlation_id,
        since=since,
        until=until,
        after=_cursor_seq(cursor) if cursor else None,
        limit=limit,
    )
    items = [AuditEventRead.model_validate(row) for row in rows[:limit]]
    more = len(rows) > limit
    next_cursor = encode_cursor({"seq": rows[limit - 1].seq}) if more else None
    return Page(items=items, next_cursor=next_cursor)


def _cursor_seq(cursor: str) -> int:
    seq = decode_cursor(cursor).get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise BadRequest("the cursor is not valid")
    return seq
