"""The Makefile's Python check, on a copy of the Makefile with fake Pythons on PATH: a Python
that is not 3.11 is refused before anything is installed, and a venv made by one is rebuilt
by the right Python without touching the data."""

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

# Each test runs make, which starts Python processes.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("make") is None, reason="needs make"),
]

# Prints its version for the Makefile's probe (-c); `-m venv DIR` makes a venv of the same
# version whose pip refuses DIX unless it is 3.11. Like the real venv module it keeps an
# existing DIR/bin/python: a venv is not switched to another Python by running venv again.
FAKE_PYTHON = """#!/bin/sh
echo "$(basename "$0") $*" >> "$FAKE_LOG"
case "$1" in
  -c) echo {version} ;;
  -m)
    if [ "$2" = venv ]; then
      mkdir -p "$3/bin"
      echo "version = {version}.0" > "$3/pyvenv.cfg"
      [ -e "$3/bin/python" ] || cp "$0" "$3/bin/python"
      [ -e "$3/bin/pip" ] || cp "$(dirname "$0")/pip-{version}" "$3/bin/pip"
    fi ;;
esac
"""
FAKE_PIP = """#!/bin/sh
echo "pip-{version} $*" >> "$FAKE_LOG"
if [ {version} != 3.11 ]; then
  echo "ERROR: Package 'dix' requires a different Python: {version}.0 not in '<3.12,>=3.11'" >&2
  exit 1
fi
"""


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The Makefile and what its install step reads, in a folder of their own: the real
    .venv is never touched."""
    copy = tmp_path / "dix"
    copy.mkdir()
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(settings.BASE_DIR / name, copy / name)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for version, names in (("3.12", ["python3", "python3.12"]), ("3.11", ["python3.11"])):
        _script(fake_bin / f"pip-{version}", FAKE_PIP.format(version=version))
        for name in names:
            _script(fake_bin / name, FAKE_PYTHON.format(version=version))
    return copy


def _make(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Not the outer make's settings either: `make test VENV=…` hands its command-line
    # variables to every make below it through MAKEFLAGS.
    outer = {"VENV", "PYTHON", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
    env = {key: value for key, value in os.environ.items() if key not in outer}
    env["PATH"] = f"{project.parent / 'bin'}{os.pathsep}{env['PATH']}"
    env["FAKE_LOG"] = str(project.parent / "calls.log")
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(project), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _calls(project: Path) -> list[str]:
    log = project.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_a_python_that_is_not_3_11_is_refused_before_installing_anything(project: Path):
    done = _make(project, "install")  # python3 on PATH is 3.12

    assert done.returncode != 0
    ours = [line for line in done.stderr.splitlines() if not line.startswith("make")]
    assert ours == [
        "DIX needs Python 3.11 but python3 is 3.12: run make with PYTHON=python3.11 "
        "(e.g. make run PYTHON=python3.11); nothing was installed."
    ]
    assert not (project / ".venv").exists()
    assert not [call for call in _calls(project) if "venv" in call or call.startswith("pip")]


def test_a_missing_python_is_named(project: Path):
    done = _make(project, "install", "PYTHON=python3.99")

    assert done.returncode != 0
    assert "DIX needs Python 3.11 but python3.99 is not found" in done.stderr
    assert not (project / ".venv").exists()


def test_a_venv_made_by_another_python_is_rebuilt_and_the_data_kept(project: Path):
    assert _make(project, "install").returncode != 0  # refused: nothing made
    # A venv left by a Makefile that did not check the Python first.
    subprocess.run(
        [project.parent / "bin" / "python3", "-m", "venv", project / ".venv"],
        env={**os.environ, "FAKE_LOG": str(project.parent / "calls.log")},
        check=True,
    )
    data = project / "var" / "dix.sqlite3"
    data.parent.mkdir()
    data.write_bytes(b"the desks' profiles")

    done = _make(project, "install", "PYTHON=python3.11")

    assert done.returncode == 0, done.stderr
    assert "Rebuilding .venv: it was made with another Python" in done.stdout
    version = subprocess.run(
        [project / ".venv" / "bin" / "python", "-c", "import sys"],
        env={**os.environ, "FAKE_LOG": os.devnull},
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "3.11"
    assert (project / ".venv" / ".installed").exists()
    assert data.read_bytes() == b"the desks' profiles"


def test_a_good_venv_is_not_rebuilt_on_the_next_run(project: Path):
    assert _make(project, "install", "PYTHON=python3.11").returncode == 0
    installs = len(_calls(project))

    again = _make(project, "install", "PYTHON=python3.11")

    assert again.returncode == 0, again.stderr
    assert "Nothing to be done" in again.stdout
    later = _calls(project)[installs:]
    assert not [call for call in later if "venv" in call or call.startswith("pip")]


def _pip_that_collects(project: Path, then: str) -> None:
    """A pip 3.11 whose requirements install says what it collects, then runs `then`."""
    _script(
        project.parent / "bin" / "pip-3.11",
        FAKE_PIP.format(version="3.11")
        + 'case "$*" in *requirements.lock*)\n'
        + "  echo 'Collecting django==5.2'; echo '  Downloading django.whl'\n"
        + f"  echo 'Collecting celery==5.5'; {then} ;;\nesac\n",
    )


def test_the_first_install_says_what_it_installs_and_counts_the_packages(project: Path):
    _pip_that_collects(project, "true")
    packages = [
        line
        for line in (project / "requirements.lock").read_text().splitlines()
        if line[:1].isalnum()
    ]

    done = _make(project, "install", "PYTHON=python3.11")

    assert done.returncode == 0, done.stderr
    assert (
        f"Installing {len(packages)} packages into .venv (first run only, about a minute)..."
        in done.stdout
    )
    assert f"[1/{len(packages)}] django==5.2" in done.stdout
    assert f"[2/{len(packages)}] celery==5.5" in done.stdout
    assert "Downloading" not in done.stdout  # one line, not pip's hundreds
    assert "Installing DIX itself" in done.stdout


def test_a_failing_package_install_stops_with_pips_own_words(project: Path):
    _pip_that_collects(project, "echo 'ERROR: No matching distribution for celery'; exit 1")

    done = _make(project, "install", "PYTHON=python3.11")

    assert done.returncode != 0
    assert "ERROR: No matching distribution for celery" in done.stderr
    assert not (project / ".venv" / ".installed").exists()
