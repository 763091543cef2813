"""The SQL of the reservation repository, written once for asyncpg (``$1`` parameters).

The whole-change statements (``try_hold_sql``, ``try_let_go_sql``) and the locked path's hold and
let-go keep the global lock order (``stock.repository``): each kind of lock is taken whole
before the next, a later part of a statement reading the earlier one to its end first.

Every stock update names its skus with ``ANY`` as well as joining on them: the index then
reaches just those rows (with few rows per tenant the planner would otherwise read them all, and
each hot row is a chain of versions to walk).
"""

import functools

from retail_inventory.stock.repository import CROSSINGS, LOCK_SKUS, THRESHOLDS_OF_SKUS

COLUMNS = "id, tenant_id, order_id, status, requested, short_lines, expires_at, created_at"
WIDTH = len(COLUMNS.split(", "))

# Whatever inserts a reservation first takes its id's advisory lock: two claims of one id (a
# client's retry beside its first call) then queue there, never one of them holding stock rows
# while it waits for the other's insert.
_ID_LOCK = "pg_advisory_xact_lock(hashtextextended('reservation ' || {id}::uuid::text, 0))"
CLAIM = f"""
INSERT INTO reservations (id, tenant_id, order_id, status, requested, actor, expires_at)
SELECT $1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7)
FROM (SELECT {_ID_LOCK.format(id="$1")}) AS id_lock
ON CONFLICT (id) DO NOTHING RETURNING {COLUMNS}
"""  # noqa: S608 - a constant column list
# The claim and, when it is ours, every warehouse's row of the skus ``$8``, locked: a row per
# stock row (the reservation's columns first), or one with no stock columns.
CLAIM_AND_LOCK = f"""
WITH claimed AS ({CLAIM})
SELECT c.*, s.* FROM claimed AS c
LEFT JOIN LATERAL ({LOCK_SKUS.format(tenant="$2", skus="$8::text[]")}) AS s ON true
"""  # noqa: S608 - constant SQL
GET = f"SELECT {COLUMNS} FROM reservations WHERE id = $1"  # noqa: S608
# The reservation and its lines as committed now, unlocked: a row per line (the reservation's
# columns first), or one with no line columns.
WITH_LINES = f"""
SELECT r.*, l.sku, l.warehouse_id, w.code, l.qty, l.state FROM ({GET}) AS r
LEFT JOIN reservation_lines l ON l.reservation_id = r.id
LEFT JOIN warehouses w ON w.id = l.warehouse_id
ORDER BY l.sku, w.code
"""  # noqa: S608 - constant SQL
LOCK = f"SELECT {COLUMNS} FROM reservations WHERE id = $1 FOR UPDATE"  # noqa: S608
_LINES = """
SELECT l.sku, l.warehouse_id, w.code, l.qty, l.state FROM reservation_lines l
JOIN warehouses w ON w.id = l.warehouse_id
"""
READ_LINES = _LINES + "WHERE l.reservation_id = $1 ORDER BY l.sku, w.code"
# The lines of ``reservation`` (an SQL expression) with their stock rows locked, in the global
# (sku, warehouse_id) order.
_LOCK_LINES_OF = (
    _LINES + "JOIN stock_levels s ON s.tenant_id = l.tenant_id AND s.sku = l.sku "
    "AND s.warehouse_id = l.warehouse_id "
    "WHERE l.reservation_id = {reservation} ORDER BY l.sku, l.warehouse_id FOR UPDATE OF s"
)
# The reservation locked and, when it is held, its lines with their stock rows locked after it:
# a row per line (the reservation's columns first), or one with no line columns.
LOCK_WITH_LINES = f"""
WITH r AS MATERIALIZED ({LOCK})
SELECT r.*, l.* FROM r
LEFT JOIN LATERAL ({_LOCK_LINES_OF.format(reservation="r.id AND r.status = 'HELD'")}) AS l ON true
"""  # noqa: S608 - constant SQL
LOCK_LINES = _LOCK_LINES_OF.format(reservation="$1")
NEXT_EXPIRED = f"""
SELECT {COLUMNS} FROM reservations
WHERE status = 'HELD' AND expires_at <= clock_timestamp()
ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED
"""  # noqa: S608
SET_STATUS = f"""
UPDATE reservations SET status = $2, updated_at = now(),
    short_lines = coalesce($3, short_lines)
WHERE id = $1 RETURNING {COLUMNS}
"""  # noqa: S608
UNEXPIRED_HELD = """
SELECT count(*) FROM reservation_lines
WHERE reservation_id = $1 AND state = 'held' AND expires_at > clock_timestamp()
"""
MOVE_HELD = """
UPDATE reservation_lines SET state = $2
WHERE reservation_id = $1 AND state = 'held' RETURNING sku, warehouse_id, qty
"""


@functools.cache
def hold_sql(event: str) -> str:
    """The picks ``(sku $8, warehouse_id $9, qty $10)`` on stock rows the caller has locked:
    reserved goes up, the lines are written (expiring at ``$11``), the answer goes to the outbox
    (``$1``-``$5``), and the thresholds of the skus come back locked (lock order: stock rows,
    then thresholds by id). ``$6`` is the reservation, ``$7`` the tenant."""
    return f"""
WITH picks AS (
    SELECT * FROM unnest($8::text[], $9::uuid[], $10::int[]) AS p(sku, warehouse_id, qty)
), held AS (
    UPDATE stock_levels AS s SET reserved = s.reserved + p.qty, updated_at = now()
    FROM picks AS p
    WHERE s.tenant_id = $7 AND s.sku = ANY($8::text[])
      AND s.sku = p.sku AND s.warehouse_id = p.warehouse_id
), lines AS (
    INSERT INTO reservation_lines
        (reservation_id, tenant_id, sku, warehouse_id, qty, expires_at, state)
    SELECT $6, $7, p.sku, p.warehouse_id, p.qty, $11, 'held' FROM picks AS p
), answer AS ({event})
{THRESHOLDS_OF_SKUS.format(tenant="$7", skus="$8::text[]")}
"""  # noqa: S608 - constant SQL


@functools.cache
def let_go_sql(event: str) -> str:
    """The still-held lines of reservation ``$6`` are released (their units go back to stock)
    and the reservation goes to status ``$8``; the caller holds the lines' stock rows. The
    answer goes to the outbox (``$1``-``$5``); the thresholds of the freed skus come back
    locked. ``$7`` is the tenant."""
    return f"""
WITH freed AS (
    UPDATE reservation_lines SET state = 'released'
    WHERE reservation_id = $6 AND state = 'held'
    RETURNING sku, warehouse_id, qty
), per_row AS (
    SELECT sku, warehouse_id, sum(qty) AS qty FROM freed GROUP BY sku, warehouse_id
), stock AS (
    UPDATE stock_levels AS s SET reserved = s.reserved - f.qty, updated_at = now()
    FROM per_row AS f
    WHERE s.tenant_id = $7 AND s.sku = ANY(ARRAY(SELECT sku FROM per_row))
      AND s.sku = f.sku AND s.warehouse_id = f.warehouse_id
), reservation AS (
    UPDATE reservations SET status = $8, updated_at = now() WHERE id = $6
), answer AS ({event})
{THRESHOLDS_OF_SKUS.format(tenant="$7", skus="ARRAY(SELECT sku FROM freed)")}
"""  # noqa: S608 - constant SQL


# When the one-statement hold and let-go write their answer (see below).
HOLD_DONE = "EXISTS (SELECT FROM claimed)"
LET_GO_DONE = "(SELECT ok FROM go)"


@functools.cache
def try_hold_sql(answer: str) -> str:
    """A new reservation holding its picks ``(sku $13, warehouse_id $14, qty $15)``, all in one
    statement, when they still fit and move no threshold across its line; otherwise nothing
    changes. Returns ``(done, claimed)``: not done, the locked path must decide; done but not
    claimed, the id exists already (a repeat), and nothing changed.

    ``$6``-``$12`` are the reservation's id, tenant, order, requested lines, actor, expiry and
    creation time; ``$16`` its skus; ``answer`` writes the answer (``$1``-``$5``) to the outbox.
    Locks: the id's, then every warehouse's row of the skus, then their thresholds.
    """
    return f"""
WITH id_lock AS MATERIALIZED (
    SELECT {_ID_LOCK.format(id="$6")}
), stock AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.on_hand - s.reserved AS available FROM stock_levels s
    WHERE s.tenant_id = $7 AND s.sku = ANY($16::text[]) AND EXISTS (SELECT FROM id_lock)
    ORDER BY s.sku, s.warehouse_id
    FOR UPDATE
), picks AS (
    SELECT * FROM unnest($13::text[], $14::uuid[], $15::int[]) AS p(sku, warehouse_id, qty)
), after AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.available - coalesce(p.qty, 0) AS available, p.qty
    FROM stock s LEFT JOIN picks p USING (sku, warehouse_id)
), {CROSSINGS.format(tenant="$7", skus="$16::text[]")}, fits AS MATERIALIZED (
    SELECT (SELECT count(*) FROM after WHERE qty IS NOT NULL AND available >= 0)
        = cardinality($13::text[]) AND NOT EXISTS (SELECT FROM crossings) AS ok
), claimed AS (
    INSERT INTO reservations
        (id, tenant_id, order_id, status, requested, actor, expires_at, created_at)
    SELECT $6, $7, $8, 'HELD', $9, $10, $11, $12 FROM fits WHERE ok
    ON CONFLICT (id) DO NOTHING RETURNING id
), held AS (
    UPDATE stock_levels AS s SET reserved = s.reserved + p.qty, updated_at = now()
    FROM picks AS p
    WHERE s.tenant_id = $7 AND s.sku = ANY($16::text[])
      AND s.sku = p.sku AND s.warehouse_id = p.warehouse_id AND EXISTS (SELECT FROM claimed)
), lines AS (
    INSERT INTO reservation_lines
        (reservation_id, tenant_id, sku, warehouse_id, qty, expires_at, state)
    SELECT $6, $7, p.sku, p.warehouse_id, p.qty, $11, 'held' FROM picks AS p
    WHERE EXISTS (SELECT FROM claimed)
), answer AS ({answer})
SELECT ok, EXISTS (SELECT FROM claimed) FROM fits
"""  # noqa: S608 - constant SQL


@functools.cache
def try_let_go_sql(answer: str) -> str:
    """Reservation ``$6`` of tenant ``$7``, if still held, released in one statement unless a
    threshold of its skus ``$8`` would change side by it: the still-held lines give their units
    back, the reservation becomes RELEASED, ``answer`` writes the answer (``$1``-``$5``) to the
    outbox. Returns whether it did; otherwise nothing changed.

    Locks: the reservation, then every warehouse's row of its skus, then its held lines, then
    the thresholds.
    """
    return f"""
WITH r AS MATERIALIZED (
    SELECT id FROM reservations WHERE id = $6 AND tenant_id = $7 AND status = 'HELD'
    FOR UPDATE
), stock AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.on_hand - s.reserved AS available FROM stock_levels s
    WHERE s.tenant_id = $7 AND s.sku = ANY($8::text[]) AND EXISTS (SELECT FROM r)
    ORDER BY s.sku, s.warehouse_id
    FOR UPDATE
), lines_locked AS MATERIALIZED (
    -- By the reservation alone: its few lines, whatever their state, are locked and then
    -- filtered as they now are (a state filter here would lead the planner to the partial
    -- index of every held line, dead entries included).
    SELECT id, sku, warehouse_id, qty, state FROM reservation_lines
    WHERE reservation_id = $6 AND (SELECT count(*) FROM stock) > 0
    ORDER BY id
    FOR UPDATE
), held AS MATERIALIZED (
    SELECT id, sku, warehouse_id, qty FROM lines_locked WHERE state = 'held'
), per_row AS MATERIALIZED (
    SELECT sku, warehouse_id, sum(qty) AS qty FROM held GROUP BY sku, warehouse_id
), after AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.available + coalesce(h.qty, 0) AS available
    FROM stock s LEFT JOIN per_row h USING (sku, warehouse_id)
), {CROSSINGS.format(tenant="$7", skus="$8::text[]")}, go AS MATERIALIZED (
    SELECT EXISTS (SELECT FROM r) AND NOT EXISTS (SELECT FROM crossings) AS ok
), lines AS (
    UPDATE reservation_lines SET state = 'released'
    WHERE id IN (SELECT id FROM held) AND (SELECT ok FROM go)
), stock_back AS (
    UPDATE stock_levels AS s SET reserved = s.reserved - h.qty, updated_at = now()
    FROM per_row AS h
    WHERE s.tenant_id = $7 AND s.sku = ANY($8::text[])
      AND s.sku = h.sku AND s.warehouse_id = h.warehouse_id AND (SELECT ok FROM go)
), released AS (
    UPDATE reservations SET status = 'RELEASED', updated_at = now()
    WHERE id IN (SELECT id FROM r) AND (SELECT ok FROM go)
), answer AS ({answer})
SELECT ok FROM go
"""  # noqa: S608 - constant SQL
