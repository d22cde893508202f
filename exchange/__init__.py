"""The STIX/TAXII exchange: what a member may see of profiles, notices and seizures, as STIX 2.1."""
