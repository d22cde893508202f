"""Helpers shared by test modules: import from here, never from another `test_*.py`."""
