"""Date formats of the portal in English."""
