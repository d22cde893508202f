"""Model-free plumbing every app shares: errors, strict parsing, paging, schema, the event hook."""
