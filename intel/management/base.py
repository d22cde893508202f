"""DIX's management commands refuse, in one line, a database that is not migrated.

A command run with another DIX_DATA_DIR (or another DATABASE_URL) meets an empty database;
without this check it fails deep in the ORM with a long "no such table" traceback, or, for
run_all, starts a server that answers every request with a 500.
"""

from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

MIGRATE_HINT = "run `python manage.py migrate` (or `make run`)"

# PostgreSQL's SQLSTATE for a relation that does not exist (undefined_table).
UNDEFINED_TABLE = "42P01"


def database_location(alias: str = DEFAULT_DB_ALIAS) -> str:
    """Where the database is, for a person to recognise: a file, or host/name without the
    password."""
    settings_dict = connections[alias].settings_dict
    if connections[alias].vendor == "sqlite":
        return str(settings_dict["NAME"])
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"{host}{port}/{settings_dict['NAME']}"


@dataclass(frozen=True)
class DatabaseProblem:
    """Why the database cannot serve DIX yet, as one line that says what to do."""

    message: str
    unreachable: bool = False


def database_problem(alias: str = DEFAULT_DB_ALIAS) -> DatabaseProblem | None:
    """What stops the database from serving DIX (unreachable, empty, not migrated); None
    when nothing does."""
    connection = connections[alias]
    where = f"The database at {database_location(alias)}"
    try:
        if not connection.introspection.table_names():
            return DatabaseProblem(f"{where} has no tables: {MIGRATE_HINT}.")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        lines = str(error).strip().splitlines()
        detail = lines[0] if lines else type(error).__name__
        return DatabaseProblem(
            f"{where} could not be read ({detail}): check DATABASE_URL.", unreachable=True
        )
    if pending:
        return DatabaseProblem(
            f"{where} is not up to date ({len(pending)} migrations not applied): {MIGRATE_HINT}."
        )
    return None


def is_missing_table(error: BaseException) -> bool:
    """Whether a database error means the schema is not there (SQLite or PostgreSQL)."""
    if not isinstance(error, DatabaseError):
        return False
    if getattr(error.__cause__, "sqlstate", None) == UNDEFINED_TABLE:
        return True
    return "no such table" in str(error)


class DixCommand(BaseCommand):
    """A DIX command: checks the database is migrated before it touches it."""

    def needs_migrated_database(self, options: dict[str, Any]) -> bool:
        return True

    def execute(self, *args: Any, **options: Any) -> str | None:
        if self.needs_migrated_database(options):
            alias = options.get("database") or DEFAULT_DB_ALIAS
            problem = database_problem(alias)
            if problem is not None:
                raise CommandError(problem.message)
        return super().execute(*args, **options)
