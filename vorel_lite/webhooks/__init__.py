"""Webhooks: subscriptions, fan-out of events into deliveries, and the delivery worker."""
