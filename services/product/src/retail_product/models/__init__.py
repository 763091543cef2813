"""The Product service's tables."""

from retail_product.models.base import Base, Inbox, Outbox, events
from retail_product.models.catalog import Category, Picture, Product, ProductCategory

__all__ = ["Base", "Category", "Inbox", "Outbox", "Picture", "Product", "ProductCategory", "events"]
