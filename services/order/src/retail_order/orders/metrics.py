"""The saga's business metrics (Prometheus)."""

from prometheus_client import Counter, Histogram

from retail_order.orders.saga import Step

ORDERS_BY_STATUS = Counter(
    "retail_orders_status_changes_total", "Orders entering each status", ["status", "reason"]
)
SAGA_SECONDS = Histogram(
    "retail_order_saga_seconds",
    "From order placed to its final status",
    ["status"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
SAGAS_PARKED = Counter("retail_order_sagas_parked_total", "Sagas parked for an operator", ["step"])
for _step in Step:  # every step's series from the start, at zero (alerts watch them)
    SAGAS_PARKED.labels(_step.value)
