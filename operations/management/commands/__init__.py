"""The commands that span apps: `load_demo`, `run_all`, `retention`."""
