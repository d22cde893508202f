"""A read-only TAXII 2.1 server at `/taxii2/` (docs/taxii.md).

It serves, per member, the STIX objects `exchange.stix.feed.entries(member)` returns; it decides
nothing about visibility. `collections` defines what each collection holds, `paging` the
filters and the cursor, `auth` the credentials, `views` the endpoints of TAXII 2.1 §4–§5.
"""
