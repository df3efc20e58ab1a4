"""Training runs and model versions in Django's admin: visible to admins, read only (runs and
promotions go through /system/models/, the gate and its record)."""

import pytest
from django.urls import reverse

from models_train.models import ModelVersion, ModelVersionChange, TrainingRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(admin_user):
    version = ModelVersion.objects.create(name="v1", checkpoint_path="v1", status=ModelVersion.Status.ACTIVE)
    ModelVersionChange.objects.create(
        kind=ModelVersionChange.Kind.PROMOTE,
        version=version,
        by=admin_user,
        reason="below the gate, on purpose",
    )
    run = TrainingRun.objects.create(
        requested_by=admin_user, status=TrainingRun.Status.SUCCEEDED, version=version
    )
    return run, version


def _pages(run, version):
    return [
        reverse("admin:models_train_trainingrun_changelist"),
        reverse("admin:models_train_trainingrun_change", args=[run.pk]),
        reverse("admin:models_train_modelversion_changelist"),
        reverse("admin:models_train_modelversion_change", args=[version.pk]),
    ]


def test_admins_see_runs_and_versions_with_who_switched_them(client, admin_user, rows):
    client.force_login(admin_user)
    for url in _pages(*rows):
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("admin:models_train_modelversion_change", args=[rows[1].pk])).content.decode()
    assert "below the gate, on purpose" in page


@pytest.mark.parametrize("role", ["learner", "educator"])
def test_others_are_sent_to_the_admin_log_in(client, make_user, role, rows):
    client.force_login(make_user(role))
    for url in _pages(*rows):
        got = client.get(url)
        assert got.status_code == 302 and "/django-admin/login/" in got["Location"], url


def test_versions_are_not_promoted_here(client, admin_user, rows):
    run, version = rows
    client.force_login(admin_user)
    url = reverse("admin:models_train_modelversion_change", args=[version.pk])
    assert client.post(url, {"name": "v1", "status": "retired"}).status_code == 403
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.ACTIVE
    assert client.get(reverse("admin:models_train_trainingrun_add")).status_code == 403
    assert client.get(reverse("admin:models_train_trainingrun_delete", args=[run.pk])).status_code == 403
