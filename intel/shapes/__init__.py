"""The shapes of intel's resources: one definition each, read by the API, the webhook payloads
and the OpenAPI schema (never by importing the API's views)."""
