"""The desk portal: the pages through which members work in a browser (docs/portal.md)."""
