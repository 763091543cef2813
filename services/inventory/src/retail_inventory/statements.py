"""Every statement Inventory sends to asyncpg (DESIGN §11), each whole, with named parameters.

Reserve and release are the hottest paths of the service: their usual work is one read and one
statement (``TRY_HOLD``, ``TRY_LET_GO``) that locks what it changes, checks that what was read
still holds, and writes everything — stock, lines, reservation and the answer's outbox row — or
nothing. When it cannot, the locked path runs the smaller statements below.

Lock order, kept by every write path so that concurrent transactions never deadlock: a
reservation id's advisory lock (taken by whatever inserts that reservation) or the reservation
row first, then stock rows ordered by ``(sku, warehouse_id)``, then the held reservation lines
of those stock rows, then threshold rows ordered by id. A statement that takes several of these
takes each kind whole before the next (a later part reads the earlier one to its end first).

Time: whether a hold has expired is decided by the service's clock (``retail_kernel.clock``),
given as ``:now`` or as an ``:expires_at`` computed from it; the database's ``now()`` only
stamps ``updated_at``.

Every stock update names its skus with ``ANY`` as well as joining on them: the index then
reaches just those rows (with few rows per tenant the planner would otherwise read them all,
and each hot row is a chain of versions to walk).

The rules (``reservations.domain``, ``stock.domain``) are stated in Python; where a statement
decides by one of them itself, it says so, and ``test_rules_in_sql`` checks on generated cases
that the two agree:

- *still fits*: every pick leaves its stock row's ``on_hand - reserved`` at zero or more
  (``domain.shortages`` is the same rule over all of a sku's rows);
- *crossing*: a threshold is crossed when ``available < threshold`` (summed over the sku's
  rows, or one warehouse's) differs from its ``low`` (``stock.domain.crossing``).
"""

from retail_kernel.driver import Statement

RESERVATION_COLUMNS = (
    "id, tenant_id, order_id, status, requested, short_lines, expires_at, created_at"
)
RESERVATION_WIDTH = len(RESERVATION_COLUMNS.split(", "))

# --- Stock rows and thresholds ---------------------------------------------------------------

# Every warehouse's row of the skus as committed now, unlocked: a reservation allocates on
# them, then holds in one statement that checks its picks still fit.
READ_STOCK = Statement("""
SELECT s.sku, s.warehouse_id, w.code, s.on_hand, s.reserved
FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id
WHERE s.tenant_id = :tenant AND s.sku = ANY(:skus::text[])
ORDER BY s.sku, s.warehouse_id
""")
# Every warehouse's row of the skus, locked in the global order.
LOCK_STOCK = Statement("""
SELECT s.sku, s.warehouse_id, w.code, s.on_hand, s.reserved
FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id
WHERE s.tenant_id = :tenant AND s.sku = ANY(:skus::text[])
ORDER BY s.sku, s.warehouse_id
FOR UPDATE OF s
""")
# Add to ``on_hand`` and ``reserved`` of rows the caller has locked; each row's new on_hand.
APPLY_CHANGES = Statement("""
UPDATE stock_levels AS s
SET on_hand = s.on_hand + c.on_hand, reserved = s.reserved + c.reserved, updated_at = now()
FROM unnest(:skus::text[], :warehouses::uuid[], :on_hand::int[], :reserved::int[])
     AS c(sku, warehouse_id, on_hand, reserved)
WHERE s.tenant_id = :tenant AND s.sku = ANY(:skus::text[])
  AND s.sku = c.sku AND s.warehouse_id = c.warehouse_id
RETURNING s.sku, s.warehouse_id, s.on_hand
""")
# The units of expired holds on these skus stop counting: their lines lapse under the stock
# row locks the caller holds, before the sweeper gets to their reservations.
LAPSE_EXPIRED = Statement("""
UPDATE reservation_lines SET state = 'lapsed'
WHERE tenant_id = :tenant AND sku = ANY(:skus::text[]) AND state = 'held'
  AND expires_at <= :now
RETURNING sku, warehouse_id, qty
""")
# The thresholds of the skus, locked in id order.
LOCK_THRESHOLDS = Statement("""
SELECT t.id, t.sku, t.warehouse_id, w.code, t.threshold, t.low
FROM thresholds t LEFT JOIN warehouses w ON w.id = t.warehouse_id
WHERE t.tenant_id = :tenant AND t.sku = ANY(:skus::text[])
ORDER BY t.id
FOR UPDATE OF t
""")
# ``on_hand - reserved`` of each row of the skus: a fresh statement, so in READ COMMITTED it
# sees what others committed while we waited for the threshold locks.
AVAILABLE_BY_ROW = Statement("""
SELECT sku, warehouse_id, on_hand - reserved FROM stock_levels
WHERE tenant_id = :tenant AND sku = ANY(:skus::text[])
""")
SET_LOW = Statement("UPDATE thresholds SET low = :low WHERE id = :id")
UPSERT_THRESHOLD = Statement("""
INSERT INTO thresholds (tenant_id, sku, warehouse_id, threshold, low)
VALUES (:tenant, :sku, :warehouse, :threshold, false)
ON CONFLICT (tenant_id, sku, warehouse_id) DO UPDATE SET threshold = excluded.threshold
""")

# --- Adjustments -------------------------------------------------------------------------------

# A stock-out: the CHECKs refuse going below zero or below what is held; no row, no stock.
TAKE_OUT = Statement("""
UPDATE stock_levels SET on_hand = on_hand + :delta, updated_at = now()
WHERE tenant_id = :tenant AND sku = :sku AND warehouse_id = :warehouse
RETURNING on_hand, reserved
""")
# A stock-in, creating the row on the first.
PUT_IN = Statement("""
INSERT INTO stock_levels (tenant_id, sku, warehouse_id, on_hand, reserved)
VALUES (:tenant, :sku, :warehouse, :delta, 0)
ON CONFLICT (tenant_id, sku, warehouse_id)
DO UPDATE SET on_hand = stock_levels.on_hand + excluded.on_hand, updated_at = now()
RETURNING on_hand, reserved
""")
STOCK_ROW = Statement("""
SELECT on_hand, reserved FROM stock_levels
WHERE tenant_id = :tenant AND sku = :sku AND warehouse_id = :warehouse
""")
# Ledger rows, one per element of the arrays.
RECORD_MOVEMENTS = Statement("""
INSERT INTO movements (tenant_id, sku, warehouse_id, delta, reason, on_hand_after, actor,
                       reference, note, idempotency_key)
SELECT :tenant, m.* FROM unnest(
    :skus::text[], :warehouses::uuid[], :deltas::int[], :reasons::text[], :on_hand_after::int[],
    :actors::text[], :references::text[], :notes::text[], :keys::text[]
) AS m
""")
# Requests with one idempotency key queue here, for the rest of the transaction.
LOCK_KEY = Statement("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))")
MOVEMENT_BY_KEY = Statement("""
SELECT sku, warehouse_id, delta, reason FROM movements
WHERE tenant_id = :tenant AND idempotency_key = :key
""")

# --- Reservations ------------------------------------------------------------------------------

# Insert the reservation unless its id exists, after taking the id's advisory lock: two claims
# of one id (a client's retry beside its first call) then queue there, never one of them
# holding stock rows while it waits for the other's insert.
CLAIM = Statement(f"""
INSERT INTO reservations (id, tenant_id, order_id, status, requested, actor, expires_at)
SELECT :id, :tenant, :order_id, :status, :requested, :actor, :expires_at
FROM (SELECT pg_advisory_xact_lock(hashtextextended('reservation ' || :id::uuid::text, 0)))
    AS id_lock
ON CONFLICT (id) DO NOTHING RETURNING {RESERVATION_COLUMNS}
""")  # noqa: S608 - a constant column list
# ``CLAIM`` and, when the reservation is ours, every warehouse's row of the skus, locked: a row
# per stock row (the reservation's columns first), or one with no stock columns.
CLAIM_AND_LOCK = Statement(f"""
WITH claimed AS (
    INSERT INTO reservations (id, tenant_id, order_id, status, requested, actor, expires_at)
    SELECT :id, :tenant, :order_id, :status, :requested, :actor, :expires_at
    FROM (SELECT pg_advisory_xact_lock(hashtextextended('reservation ' || :id::uuid::text, 0)))
        AS id_lock
    ON CONFLICT (id) DO NOTHING RETURNING {RESERVATION_COLUMNS}
)
SELECT c.*, s.* FROM claimed AS c
LEFT JOIN LATERAL (
    SELECT s.sku, s.warehouse_id, w.code, s.on_hand, s.reserved
    FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id
    WHERE s.tenant_id = :tenant AND s.sku = ANY(:skus::text[])
    ORDER BY s.sku, s.warehouse_id
    FOR UPDATE OF s
) AS s ON true
""")  # noqa: S608 - a constant column list
GET = Statement(f"SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = :id")  # noqa: S608
LOCK = Statement(f"SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = :id FOR UPDATE")  # noqa: S608
# The reservation and its lines as committed now, unlocked: a row per line (the reservation's
# columns first), or one with no line columns.
WITH_LINES = Statement(f"""
SELECT r.*, l.sku, l.warehouse_id, w.code, l.qty, l.state
FROM (SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = :id) AS r
LEFT JOIN reservation_lines l ON l.reservation_id = r.id
LEFT JOIN warehouses w ON w.id = l.warehouse_id
ORDER BY l.sku, w.code
""")  # noqa: S608 - a constant column list
READ_LINES = Statement("""
SELECT l.sku, l.warehouse_id, w.code, l.qty, l.state FROM reservation_lines l
JOIN warehouses w ON w.id = l.warehouse_id
WHERE l.reservation_id = :id ORDER BY l.sku, w.code
""")
# The lines with their stock rows locked, in the global order.
LOCK_LINES = Statement("""
SELECT l.sku, l.warehouse_id, w.code, l.qty, l.state FROM reservation_lines l
JOIN warehouses w ON w.id = l.warehouse_id
JOIN stock_levels s
    ON s.tenant_id = l.tenant_id AND s.sku = l.sku AND s.warehouse_id = l.warehouse_id
WHERE l.reservation_id = :id ORDER BY l.sku, l.warehouse_id FOR UPDATE OF s
""")
# The reservation locked and, when it is held, its lines with their stock rows locked after it:
# a row per line (the reservation's columns first), or one with no line columns.
LOCK_WITH_LINES = Statement(f"""
WITH r AS MATERIALIZED (
    SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = :id FOR UPDATE
)
SELECT r.*, l.* FROM r
LEFT JOIN LATERAL (
    SELECT l.sku, l.warehouse_id, w.code, l.qty, l.state FROM reservation_lines l
    JOIN warehouses w ON w.id = l.warehouse_id
    JOIN stock_levels s
        ON s.tenant_id = l.tenant_id AND s.sku = l.sku AND s.warehouse_id = l.warehouse_id
    WHERE l.reservation_id = r.id AND r.status = 'HELD'
    ORDER BY l.sku, l.warehouse_id FOR UPDATE OF s
) AS l ON true
""")  # noqa: S608 - a constant column list
# One held reservation past its expiry that no other sweeper is working on.
NEXT_EXPIRED = Statement(f"""
SELECT {RESERVATION_COLUMNS} FROM reservations
WHERE status = 'HELD' AND expires_at <= :now
ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED
""")  # noqa: S608 - a constant column list
SET_STATUS = Statement(f"""
UPDATE reservations SET status = :status, updated_at = now(),
    short_lines = coalesce(:short_lines, short_lines)
WHERE id = :id RETURNING {RESERVATION_COLUMNS}
""")  # noqa: S608 - a constant column list
UNEXPIRED_HELD = Statement("""
SELECT count(*) FROM reservation_lines
WHERE reservation_id = :id AND state = 'held' AND expires_at > :now
""")
MOVE_HELD = Statement("""
UPDATE reservation_lines SET state = :state
WHERE reservation_id = :id AND state = 'held' RETURNING sku, warehouse_id, qty
""")

# --- Holding and letting go --------------------------------------------------------------------

# The locked path's hold: picks ``(skus, warehouses, qtys)`` on stock rows the caller has
# locked: reserved goes up, the lines are written, the answer goes to the outbox, and the
# thresholds of the skus come back locked (after the stock rows) for the caller to check.
HOLD = Statement("""
WITH picks AS (
    SELECT * FROM unnest(:skus::text[], :warehouses::uuid[], :qtys::int[])
        AS p(sku, warehouse_id, qty)
), held AS (
    UPDATE stock_levels AS s SET reserved = s.reserved + p.qty, updated_at = now()
    FROM picks AS p
    WHERE s.tenant_id = :tenant AND s.sku = ANY(:skus::text[])
      AND s.sku = p.sku AND s.warehouse_id = p.warehouse_id
), lines AS (
    INSERT INTO reservation_lines
        (reservation_id, tenant_id, sku, warehouse_id, qty, expires_at, state)
    SELECT :id, :tenant, p.sku, p.warehouse_id, p.qty, :expires_at, 'held' FROM picks AS p
), answer AS (
    INSERT INTO outbox (id, topic, key, event_type, envelope)
    VALUES (:event_id, :event_topic, :event_key, :event_type, :event_envelope)
    RETURNING CASE WHEN :event_notify THEN pg_notify('retail_outbox', '') END
)
SELECT t.id, t.sku, t.warehouse_id, w.code, t.threshold, t.low
FROM thresholds t LEFT JOIN warehouses w ON w.id = t.warehouse_id
WHERE t.tenant_id = :tenant AND t.sku = ANY(:skus::text[])
ORDER BY t.id
FOR UPDATE OF t
""")
# The locked path's let-go: the still-held lines of reservation ``:id`` are released (their
# units go back to stock) and the reservation goes to ``:status``; the caller holds the lines'
# stock rows. The answer goes to the outbox; the freed skus' thresholds come back locked.
LET_GO = Statement("""
WITH freed AS (
    UPDATE reservation_lines SET state = 'released'
    WHERE reservation_id = :id AND state = 'held'
    RETURNING sku, warehouse_id, qty
), per_row AS (
    SELECT sku, warehouse_id, sum(qty) AS qty FROM freed GROUP BY sku, warehouse_id
), stock AS (
    UPDATE stock_levels AS s SET reserved = s.reserved - f.qty, updated_at = now()
    FROM per_row AS f
    WHERE s.tenant_id = :tenant AND s.sku = ANY(ARRAY(SELECT sku FROM per_row))
      AND s.sku = f.sku AND s.warehouse_id = f.warehouse_id
), reservation AS (
    UPDATE reservations SET status = :status, updated_at = now() WHERE id = :id
), answer AS (
    INSERT INTO outbox (id, topic, key, event_type, envelope)
    VALUES (:event_id, :event_topic, :event_key, :event_type, :event_envelope)
    RETURNING CASE WHEN :event_notify THEN pg_notify('retail_outbox', '') END
)
SELECT t.id, t.sku, t.warehouse_id, w.code, t.threshold, t.low
FROM thresholds t LEFT JOIN warehouses w ON w.id = t.warehouse_id
WHERE t.tenant_id = :tenant AND t.sku = ANY(ARRAY(SELECT sku FROM freed))
ORDER BY t.id
FOR UPDATE OF t
""")
# The usual reservation, in one statement: a new reservation ``:id`` holding its picks
# ``(skus, warehouses, qtys)`` when they *still fit* and move no threshold across its line
# (*crossing*), with its answer in the outbox; otherwise nothing changes. ``:sku_set`` is the
# distinct skus. Returns ``(fits, claimed)``: not fits, the locked path must decide; fits but
# not claimed, the id exists already (a repeat) and nothing changed.
# Locks: the id's, then every warehouse's row of the skus, then their thresholds.
TRY_HOLD = Statement("""
WITH id_lock AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(hashtextextended('reservation ' || :id::uuid::text, 0))
), stock AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.on_hand - s.reserved AS available FROM stock_levels s
    WHERE s.tenant_id = :tenant AND s.sku = ANY(:sku_set::text[])
      AND EXISTS (SELECT FROM id_lock)
    ORDER BY s.sku, s.warehouse_id
    FOR UPDATE
), picks AS (
    SELECT * FROM unnest(:skus::text[], :warehouses::uuid[], :qtys::int[])
        AS p(sku, warehouse_id, qty)
), after AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.available - coalesce(p.qty, 0) AS available, p.qty
    FROM stock s LEFT JOIN picks p USING (sku, warehouse_id)
), thresholds AS MATERIALIZED (
    SELECT t.sku, t.warehouse_id, t.threshold, t.low FROM thresholds t
    WHERE t.tenant_id = :tenant AND t.sku = ANY(:sku_set::text[])
      AND (SELECT count(*) FROM after) >= 0
    ORDER BY t.id
    FOR UPDATE OF t
), crossings AS MATERIALIZED (
    SELECT FROM thresholds t
    WHERE ((
        SELECT coalesce(sum(a.available), 0) FROM after a
        WHERE a.sku = t.sku AND (t.warehouse_id IS NULL OR a.warehouse_id = t.warehouse_id)
    ) < t.threshold) <> t.low
), fits AS MATERIALIZED (
    SELECT (SELECT count(*) FROM after WHERE qty IS NOT NULL AND available >= 0)
        = cardinality(:skus::text[]) AND NOT EXISTS (SELECT FROM crossings) AS ok
), claimed AS (
    INSERT INTO reservations
        (id, tenant_id, order_id, status, requested, actor, expires_at, created_at)
    SELECT :id, :tenant, :order_id, 'HELD', :requested, :actor, :expires_at, :created_at
    FROM fits WHERE ok
    ON CONFLICT (id) DO NOTHING RETURNING id
), held AS (
    UPDATE stock_levels AS s SET reserved = s.reserved + p.qty, updated_at = now()
    FROM picks AS p
    WHERE s.tenant_id = :tenant AND s.sku = ANY(:sku_set::text[])
      AND s.sku = p.sku AND s.warehouse_id = p.warehouse_id AND EXISTS (SELECT FROM claimed)
), lines AS (
    INSERT INTO reservation_lines
        (reservation_id, tenant_id, sku, warehouse_id, qty, expires_at, state)
    SELECT :id, :tenant, p.sku, p.warehouse_id, p.qty, :expires_at, 'held' FROM picks AS p
    WHERE EXISTS (SELECT FROM claimed)
), answer AS (
    INSERT INTO outbox (id, topic, key, event_type, envelope)
    SELECT :event_id, :event_topic, :event_key, :event_type, :event_envelope
    WHERE EXISTS (SELECT FROM claimed)
    RETURNING CASE WHEN :event_notify THEN pg_notify('retail_outbox', '') END
)
SELECT ok, EXISTS (SELECT FROM claimed) FROM fits
""")
# The usual release, in one statement: reservation ``:id`` of ``:tenant``, if still held, let
# go unless a threshold of its skus ``:skus`` would change side by it (*crossing*): the
# still-held lines give their units back, the reservation becomes RELEASED, the answer goes to
# the outbox. Returns whether it did; otherwise nothing changed.
# Locks: the reservation, then every warehouse's row of its skus, then its held lines, then the
# thresholds.
TRY_LET_GO = Statement("""
WITH r AS MATERIALIZED (
    SELECT id FROM reservations WHERE id = :id AND tenant_id = :tenant AND status = 'HELD'
    FOR UPDATE
), stock AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.on_hand - s.reserved AS available FROM stock_levels s
    WHERE s.tenant_id = :tenant AND s.sku = ANY(:skus::text[]) AND EXISTS (SELECT FROM r)
    ORDER BY s.sku, s.warehouse_id
    FOR UPDATE
), lines_locked AS MATERIALIZED (
    -- By the reservation alone: its few lines, whatever their state, are locked and then
    -- filtered as they now are (a state filter here would lead the planner to the partial
    -- index of every held line, dead entries included).
    SELECT id, sku, warehouse_id, qty, state FROM reservation_lines
    WHERE reservation_id = :id AND (SELECT count(*) FROM stock) > 0
    ORDER BY id
    FOR UPDATE
), held AS MATERIALIZED (
    SELECT id, sku, warehouse_id, qty FROM lines_locked WHERE state = 'held'
), per_row AS MATERIALIZED (
    SELECT sku, warehouse_id, sum(qty) AS qty FROM held GROUP BY sku, warehouse_id
), after AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.available + coalesce(h.qty, 0) AS available
    FROM stock s LEFT JOIN per_row h USING (sku, warehouse_id)
), thresholds AS MATERIALIZED (
    SELECT t.sku, t.warehouse_id, t.threshold, t.low FROM thresholds t
    WHERE t.tenant_id = :tenant AND t.sku = ANY(:skus::text[])
      AND (SELECT count(*) FROM after) >= 0
    ORDER BY t.id
    FOR UPDATE OF t
), crossings AS MATERIALIZED (
    SELECT FROM thresholds t
    WHERE ((
        SELECT coalesce(sum(a.available), 0) FROM after a
        WHERE a.sku = t.sku AND (t.warehouse_id IS NULL OR a.warehouse_id = t.warehouse_id)
    ) < t.threshold) <> t.low
), go AS MATERIALIZED (
    SELECT EXISTS (SELECT FROM r) AND NOT EXISTS (SELECT FROM crossings) AS ok
), lines AS (
    UPDATE reservation_lines SET state = 'released'
    WHERE id IN (SELECT id FROM held) AND (SELECT ok FROM go)
), stock_back AS (
    UPDATE stock_levels AS s SET reserved = s.reserved - h.qty, updated_at = now()
    FROM per_row AS h
    WHERE s.tenant_id = :tenant AND s.sku = ANY(:skus::text[])
      AND s.sku = h.sku AND s.warehouse_id = h.warehouse_id AND (SELECT ok FROM go)
), released AS (
    UPDATE reservations SET status = 'RELEASED', updated_at = now()
    WHERE id IN (SELECT id FROM r) AND (SELECT ok FROM go)
), answer AS (
    INSERT INTO outbox (id, topic, key, event_type, envelope)
    SELECT :event_id, :event_topic, :event_key, :event_type, :event_envelope
    WHERE (SELECT ok FROM go)
    RETURNING CASE WHEN :event_notify THEN pg_notify('retail_outbox', '') END
)
SELECT ok FROM go
""")
