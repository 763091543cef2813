"""The Notification service: messages to customers and operators from domain events."""
