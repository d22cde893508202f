#!/usr/bin/env python
"""Django's command-line utility for DIX."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(sys.argv)
    except DatabaseError as error:
        # DIX's own commands check the database first (intel.management.base); this catches
        # the rest, Django's included, meeting a database that is unreachable or was never
        # migrated. Any other database error keeps its traceback: it is a bug to read.
        from intel.management.base import database_problem, is_missing_table

        problem = database_problem()
        if "--traceback" in sys.argv or problem is None:
            raise
        if not (problem.unreachable or is_missing_table(error)):
            raise
        sys.stderr.write(f"{problem.message}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
