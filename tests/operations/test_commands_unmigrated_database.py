"""`manage.py` commands run against a database that was never migrated (another DIX_DATA_DIR,
another DATABASE_URL) say so in one line and exit non-zero, instead of a traceback."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import psycopg
import pytest

from tests.helpers.processes import own_env, run_in_own_session

# Each test starts manage.py as a process of its own (seconds each).
pytestmark = pytest.mark.slow

# Every command DIX adds, and Django's own that read the database.
COMMANDS = [
    ["load_demo"],
    ["issue_token", "fr-analyst"],
    ["create_organisation", "fr-desk", "French Desk", "--kind", "national_desk"],
    [
        "create_member", "someone", "--organisation", "fr-desk",
        "--role", "analyst", "--clearance", "TLP:RED",
    ],
    ["retention", "--dry-run"],
    ["audit_verify"],
    ["run_all", "--bind", "127.0.0.1:0"],
    ["changepassword", "fr-analyst"],
    ["auth_unlock", "--account", "fr-analyst"],
]  # fmt: skip


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_in_own_session([sys.executable, "manage.py", *args], env=env, timeout=60)


def _assert_one_line_saying_migrate(done: subprocess.CompletedProcess[str], where: str) -> None:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert where in lines[0]
    assert "has no tables" in lines[0]
    assert "manage.py migrate" in lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command[0])
def test_a_command_on_a_fresh_data_dir_says_migrate_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    done = _manage(*command, env=own_env(tmp_path))

    _assert_one_line_saying_migrate(done, str(tmp_path / "dix.sqlite3"))


def test_after_migrate_the_same_data_dir_works(tmp_path: Path) -> None:
    env = own_env(tmp_path)
    assert "has no tables" in _manage("retention", "--dry-run", env=env).stderr

    migrated = _manage("migrate", "--no-input", "-v0", env=env)

    assert migrated.returncode == 0, migrated.stderr
    done = _manage("retention", "--dry-run", env=env)
    assert done.returncode == 0, done.stderr
    assert "Would delete 0 intel.ApiToken" in done.stdout


def test_a_half_migrated_database_is_refused_too(tmp_path: Path) -> None:
    env = own_env(tmp_path)
    assert _manage("migrate", "intel", "0001", "--no-input", "-v0", env=env).returncode == 0

    done = _manage("retention", "--dry-run", env=env)

    assert done.returncode != 0
    assert "is not up to date" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of its own, with no tables, next to the suite's database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs DATABASE_URL on PostgreSQL")
    config = dj_database_url.parse(url)
    name = f"{config['NAME']}_empty"
    admin = psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlsplit(url)._replace(path=f"/{name}").geturl()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.parametrize(
    "command", [COMMANDS[1], COMMANDS[6], COMMANDS[7]], ids=lambda command: command[0]
)
def test_a_command_on_an_empty_postgresql_database_says_migrate_in_one_line(
    tmp_path: Path, empty_postgres_url: str, command: list[str]
) -> None:
    done = _manage(*command, env=own_env(tmp_path, empty_postgres_url))

    _assert_one_line_saying_migrate(done, urlsplit(empty_postgres_url).path)
