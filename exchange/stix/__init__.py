"""STIX 2.1 export of what a member may see (docs/taxii.md)."""
