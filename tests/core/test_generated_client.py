"""The OpenAPI document as integrators use it: every request body in the one form its endpoint
reads, every error typed as problem+json, and a Python client generated from it by
openapi-python-client that imports whole and talks to the running service (pytest-django's
`live_server`).

Nothing generated is kept: the client is written under pytest's temporary directory.
"""

import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.management import call_command

from intel import accounts
from intel.models import TLP, DeviceProfile, Member

PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
# The endpoints that take a file, and the media types each reads.
FILE_BODIES = {
    ("post", "/api/v1/profiles/{id}/attachments/"): {"multipart/form-data"},
    ("post", "/api/v1/imei-checks/"): {"application/json", "multipart/form-data", "text/csv"},
}
PACKAGE = "dix_api_client"
# openapi-python-client reads no `text/*` body; the IMEI check's CSV body is sent as bytes.
GENERATOR_CONFIG = {
    "content_type_overrides": {"text/csv": "application/octet-stream"},
    "post_hooks": [],
}


@pytest.fixture(scope="module")
def schema_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(path))
    return path


@pytest.fixture(scope="module")
def schema(schema_path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_path.read_text())
    return loaded


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def test_bodies_without_a_file_are_json_only(schema):
    bodies = {
        (method, path): set(operation["requestBody"]["content"])
        for method, path, operation in operations(schema)
        if "requestBody" in operation
    }
    assert ("post", "/api/v1/notices/") in bodies  # the walk covers the real API

    assert {
        key: media_types
        for key, media_types in bodies.items()
        if media_types != FILE_BODIES.get(key, {"application/json"})
    } == {}


def test_every_error_status_is_a_typed_problem(schema):
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors"}

    untyped = [
        f"{method.upper()} {path} {code}"
        for method, path, operation in operations(schema)
        for code, response in operation["responses"].items()
        if int(code) >= 400
        and response.get("content") != {PROBLEM: {"schema": {"$ref": PROBLEM_REF}}}
    ]
    assert untyped == []


def test_each_operation_documents_the_errors_of_its_shape(schema):
    found = {(method, path): operation for method, path, operation in operations(schema)}
    statuses = {key: set(operation["responses"]) for key, operation in found.items()}

    assert {"400", "401", "413", "415", "429"} <= statuses[("post", "/api/v1/notices/")]
    assert {"400", "401", "404", "429"} <= statuses[("get", "/api/v1/notices/{id}/")]
    assert {"400", "401", "429"} <= statuses[("get", "/api/v1/profiles/")]
    # Even a parameterless read refuses an unknown query parameter.
    assert {"400", "401", "429"} <= statuses[("get", "/api/v1/me/")]
    retry_after = found[("get", "/api/v1/me/")]["responses"]["429"]["headers"]["Retry-After"]
    assert retry_after["schema"] == {"type": "integer"}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/notices/", "/api/v1/profiles/", "/api/v1/tokens/", "/api/v1/seizures/"],
)
def test_a_multipart_body_to_a_json_endpoint_is_415(network, api, path):
    response = api(network.alice).post(path, {"title": "Mini phones"}, format="multipart")

    assert response.status_code == 415
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "urn:dix:problem:unsupported-media-type"


def test_a_json_body_to_the_attachment_upload_is_415(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)

    response = api(network.alice).post(
        f"/api/v1/profiles/{profile.pk}/attachments/",
        {"kind": "photo", "title": "A photo"},
        format="json",
    )

    assert response.status_code == 415
    assert response.json()["type"] == "urn:dix:problem:unsupported-media-type"


# --- a generated client ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(schema_path: Path) -> Iterator[ModuleType]:
    """The client openapi-python-client generates from the schema, importable as `PACKAGE`;
    the generator's warnings (a piece it had to leave out) fail the test."""
    workdir = schema_path.parent
    config = workdir / "generator.json"
    config.write_text(json.dumps(GENERATOR_CONFIG))
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(schema_path),
            "--meta",
            "none",
            "--output-path",
            str(workdir / PACKAGE),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output, output
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.mark.slow  # generates the client in a subprocess (seconds)
def test_every_generated_module_imports(generated):
    names = [m.name for m in pkgutil.walk_packages(generated.__path__, f"{PACKAGE}.")]
    assert f"{PACKAGE}.api.v1.v1_notices_create" in names

    failures = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:  # every module must import: report them all at once
            failures[name] = repr(error)
    assert failures == {}


@pytest.fixture
def client_for(
    generated: ModuleType, live_server: Any, transactional_db: None
) -> Iterator[Callable[[Member | None], Any]]:
    """`client_for(member)`: the generated client with a fresh token of that member;
    `client_for(None)`: with a token DIX never issued."""
    opened: list[Any] = []

    def make(member: Member | None) -> Any:
        secret = (
            accounts.token_issue(member=member, name="generated-client").secret
            if member is not None
            else "dix_never_issued"
        )
        client = generated.AuthenticatedClient(
            base_url=live_server.url, token=secret, httpx_args={"trust_env": False}
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.get_httpx_client().close()


@pytest.mark.slow
def test_the_generated_client_lists_creates_and_reads_problems(
    generated, client_for, network, make_profile
):
    profiles_list = importlib.import_module(f"{PACKAGE}.api.v1.v1_profiles_list")
    notices_create = importlib.import_module(f"{PACKAGE}.api.v1.v1_notices_create")
    models = importlib.import_module(f"{PACKAGE}.models")
    profile: DeviceProfile = make_profile(tlp=TLP.GREEN, name="L8star BM10")
    alice = client_for(network.alice)

    page = profiles_list.sync(client=alice)
    assert isinstance(page, models.PaginatedDeviceProfileList)
    assert [(p.id, p.name) for p in page.results] == [(profile.pk, "L8star BM10")]

    draft = models.NoticeWriteRequest(
        type_=models.NoticeTypeEnum.ALERT,
        title="Mini phones in prisons",
        summary="Tiny plastic phones pass walk-through metal detectors.",
        profile_ids=[profile.pk],
        audience=models.NoticeAudienceInputRequest(scope=models.AudienceScopeEnum.NETWORK),
        tlp=models.TlpEnum.TLPGREEN,
    )
    created = notices_create.sync_detailed(client=alice, body=draft)
    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, models.Notice)
    assert created.parsed.title == "Mini phones in prisons"
    assert [p.id for p in created.parsed.profiles] == [profile.pk]

    draft.title = ""
    refused = notices_create.sync_detailed(client=alice, body=draft)
    assert refused.status_code == 400
    problem = refused.parsed
    assert isinstance(problem, models.Problem)
    assert problem.type_ == "urn:dix:problem:validation-error"
    assert problem.status == 400
    assert [(e.field, e.pointer) for e in problem.errors] == [("title", "#/title")]


@pytest.mark.slow
def test_the_generated_client_reads_a_401_as_a_problem(generated, client_for):
    me = importlib.import_module(f"{PACKAGE}.api.v1.v1_me_retrieve")
    models = importlib.import_module(f"{PACKAGE}.models")

    answer = me.sync_detailed(client=client_for(None))

    assert answer.status_code == 401
    assert isinstance(answer.parsed, models.Problem)
    assert answer.parsed.type_ == "urn:dix:problem:authentication-failed"
