"""Seizure reports and profiles share one detection-method vocabulary: the migration that
moved reports onto it maps their old values, both ways."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from intel.models import DetectionMethod
from tests.helpers.seizures import file, positive

BEFORE = [("seizures", "0001_initial")]
AFTER = [("seizures", "0002_one_detection_method_vocabulary")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def methods(apps):
    reports = apps.get_model("seizures", "SeizureReport").objects.order_by("id")
    return list(reports.values_list("detection_method", flat=True))


@pytest.fixture
def at_the_end_the_latest_schema():
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_old_seizure_methods_are_mapped_and_back(at_the_end_the_latest_schema):
    apps = migrate(BEFORE)
    desk = apps.get_model("intel", "Organisation").objects.create(
        slug="xx-desk", name="Desk", kind="national_desk", country="FR"
    )
    for method in ("intelligence", "search", "xray", ""):
        apps.get_model("seizures", "SeizureReport").objects.create(
            organisation=desk,
            country="FR",
            seized_on=datetime.date(2025, 5, 1),
            facility_type="prison",
            detection_method=method,
        )

    apps = migrate(AFTER)
    forwards = methods(apps)
    reports = apps.get_model("seizures", "SeizureReport").objects.order_by("id")
    first, second = reports[0].pk, reports[1].pk
    reports.filter(pk=first).update(detection_method="entrance_security_gate")
    reports.filter(pk=second).update(detection_method="pat_down_and_basic_xray")
    backwards = methods(migrate(BEFORE))

    assert forwards == ["targeted_cell_search", "search", "xray", ""]
    assert set(forwards) - {""} <= set(DetectionMethod.values)
    assert backwards == ["walk_through_metal_detector", "xray", "xray", ""]


def test_a_report_takes_the_profiles_methods_and_names_them_when_refusing(
    api, network, mini, alert
):
    taken = file(
        api, network.alice, positive(mini, alert, detection_method="entrance_security_gate")
    )
    refused = file(api, network.alice, positive(mini, alert, detection_method="intelligence"))

    assert taken.status_code == 201, taken.content
    assert taken.json()["detection_method"] == "entrance_security_gate"
    assert refused.status_code == 400
    (error,) = refused.json()["errors"]
    assert error["field"] == "detection_method"
    assert all(f'"{value}"' in error["detail"] for value in DetectionMethod.values)
