"""What an operator relies on: health and readiness probes, the API schema and its offline
docs, and a real Celery worker doing a round trip through the configured broker."""

import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

import config.celery
from intel.tasks import heartbeat

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def test_healthz_answers_without_database_or_auth():
    response = APIClient().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_and_broker(db):
    response = APIClient().get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok"},
    }


def test_readyz_is_503_when_the_broker_is_unreachable(db, monkeypatch):
    # The Celery app read its settings once; override_settings would not reach it.
    monkeypatch.setattr(config.celery.app.conf, "broker_url", "redis://127.0.0.1:1/0")
    # broker_write_url is not set, so connections for writing follow broker_url.
    assert config.celery.app.conf.get("broker_write_url") is None

    response = APIClient().get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "failed"},
    }


def test_deep_health_says_when_the_workers_and_beat_fall_silent(db):
    """`/healthz?deep`: 200 while a worker's timer and beat's heartbeat are recent; 503
    naming each one that has been silent for longer than DIX_SILENT_SECONDS, or was never
    heard of."""
    now = timezone.now()
    long_ago = now - timedelta(seconds=settings.DIX_SILENT_SECONDS + 5)
    cache.set("dix:worker-seen", now.isoformat())
    cache.set("dix:worker-heartbeat", now.isoformat())
    try:
        alive = APIClient().get("/healthz?deep")
        assert alive.status_code == 200, alive.content
        assert alive.json()["checks"] == {
            "database": "ok",
            "broker": "ok",
            "workers": "ok",
            "beat": "ok",
        }

        cache.set("dix:worker-heartbeat", long_ago.isoformat())
        no_beat = APIClient().get("/healthz?deep")
        assert no_beat.status_code == 503
        assert no_beat.json()["checks"]["beat"] == "silent"
        assert no_beat.json()["last_seen"]["beat"] == long_ago.isoformat()

        cache.delete("dix:worker-seen")
        nobody = APIClient().get("/healthz?deep")
        assert nobody.status_code == 503
        assert nobody.json()["checks"]["workers"] == "silent"
        assert nobody.json()["last_seen"]["workers"] is None
        assert APIClient().get("/healthz").json() == {"status": "ok"}  # liveness unchanged
    finally:
        cache.delete_many(["dix:worker-seen", "dix:worker-heartbeat"])


def test_readyz_ok_again_after_the_broker_is_back(db):
    # Guards against the previous test leaking its broker URL into the app.
    assert config.celery.app.conf.broker_url == settings.CELERY_BROKER_URL
    assert APIClient().get("/readyz").status_code == 200


# --- API schema and docs ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    # --fail-on-warn turns any drf-spectacular warning into an error; --validate checks the
    # result against the OpenAPI 3 specification.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_schema_builds_and_is_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"].startswith("DIX")
    assert "bearerAuth" in schema["components"]["securitySchemes"]


def test_every_operation_has_a_description(schema):
    operations = {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }
    # The walk covers the real API, not an empty document.
    assert {
        ("GET", "/api/v1/me/"),
        ("GET", "/api/v1/profiles/"),
        ("POST", "/api/v1/profiles/"),
        ("PATCH", "/api/v1/profiles/{id}/"),
        ("POST", "/api/v1/profiles/{id}/retire/"),
        ("POST", "/api/v1/tokens/"),
        ("DELETE", "/api/v1/tokens/{id}/"),
    } <= set(operations)

    undocumented = sorted(
        f"{method} {path}"
        for (method, path), operation in operations.items()
        if not str(operation.get("description", "")).strip()
    )
    assert undocumented == []


def test_patch_documents_if_match_and_its_errors(schema):
    patch = schema["paths"]["/api/v1/profiles/{id}/"]["patch"]

    headers = {p["name"]: p for p in patch["parameters"] if p["in"] == "header"}
    assert headers["If-Match"]["required"] is True
    assert {"200", "412", "428"} <= set(patch["responses"])


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_api_docs_load_nothing_from_outside(page):
    """Closed networks: neither Swagger UI nor ReDoc may reference a CDN or web fonts."""
    response = APIClient().get(page)

    assert response.status_code == 200
    html = response.content.decode()
    for cdn in ("cdn.jsdelivr", "unpkg", "cdnjs", "googleapis", "http://", "https://"):
        assert cdn not in html, cdn
    assert "/static/drf_spectacular_sidecar/" in html
    assert "/api/schema/" in html


def test_swagger_assets_are_served_locally():
    """The sidecar's files are served by the app itself (whitenoise), so the docs work on an
    air-gapped network."""
    html = APIClient().get("/api/docs/").content.decode()
    asset = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert asset in html

    response = APIClient().get(asset)

    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:200].strip()


def test_redoc_page_is_served():
    response = APIClient().get("/api/redoc/")

    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/redoc/" in response.content.decode()


def test_schema_endpoint_serves_the_document():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/v1/profiles/" in response.json()["paths"]


# --- A real worker ------------------------------------------------------------------------------


def _heartbeat_after(start: datetime) -> bool:
    value = cache.get("dix:worker-heartbeat")
    return value is not None and datetime.fromisoformat(value) >= start


@pytest.mark.slow
def test_a_worker_process_runs_the_heartbeat(tmp_path: Path):
    """Start `celery worker` as its own process on the configured broker, send the heartbeat
    and wait for the worker's mark in the shared cache.

    The task goes to a queue of its own, consumed by this worker only: a worker already
    running on the same broker cannot answer in its place, and this worker does not run
    whatever else is queued there."""
    queue = f"dix-test-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"
    env = dict(os.environ)  # DATABASE_URL, REDIS_URL, DIX_DATA_DIR… as this process has them
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    start = timezone.now()
    # The cache the worker writes to (tests/settings.py keeps this process's in memory).
    shared_cache = override_settings(CACHES=settings.PROCESS_SHARED_CACHES)
    with shared_cache, log_path.open("wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "--pool", "solo", "-c", "1", "-Q", queue,
                "--hostname", f"{queue}@%h", "--without-gossip", "--without-mingle",
                "--without-heartbeat", "--loglevel", "INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            heartbeat.apply_async(queue=queue)
            deadline = time.monotonic() + 30
            while not _heartbeat_after(start):
                assert worker.poll() is None, "worker died:\n" + log_path.read_text()
                assert time.monotonic() < deadline, "no heartbeat in 30 s:\n" + log_path.read_text()
                time.sleep(0.2)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)
            _drop_leftover_messages(queue)

    assert "intel.tasks.heartbeat" in log_path.read_text()


def _drop_leftover_messages(queue: str) -> None:
    """If the worker never took the message, do not leave it in the shared filesystem broker."""
    folder = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("data_folder_in")
    if folder and settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for leftover in Path(folder).glob(f"*.{queue}.msg"):
            leftover.unlink(missing_ok=True)


@pytest.mark.slow  # starts a Python process
def test_a_webhook_limit_below_one_stops_start_up_naming_the_variable():
    """A zero concurrency would leave every delivery waiting for a slot that never comes."""
    env = {
        **os.environ,
        "DIX_WEBHOOK_CONCURRENCY": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "DIX_WEBHOOK_CONCURRENCY must be at least 1, not 0" in done.stderr
