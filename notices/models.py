"""Notices, subscriptions and deliveries arrive with the notices issue."""
