"""Topic names: facts on ``retail.<service>.events``, requests on ``retail.<service>.commands``."""

USER_EVENTS = "retail.user.events"
PRODUCT_EVENTS = "retail.product.events"
INVENTORY_EVENTS = "retail.inventory.events"
INVENTORY_COMMANDS = "retail.inventory.commands"
ORDER_EVENTS = "retail.order.events"
PAYMENT_EVENTS = "retail.payment.events"
PAYMENT_COMMANDS = "retail.payment.commands"
NOTIFICATION_REQUESTS = "retail.notification.requests"

ALL_TOPICS = (
    USER_EVENTS,
    PRODUCT_EVENTS,
    INVENTORY_EVENTS,
    INVENTORY_COMMANDS,
    ORDER_EVENTS,
    PAYMENT_EVENTS,
    PAYMENT_COMMANDS,
    NOTIFICATION_REQUESTS,
)


def dead_letter_topic(topic: str) -> str:
    """The topic that receives the records of ``topic`` no handler could process."""
    return f"{topic}.dlq"


# What a broker must have before the first consumer subscribes.
ALL_TOPICS_AND_DEAD_LETTERS = tuple(
    t for topic in ALL_TOPICS for t in (topic, dead_letter_topic(topic))
)
