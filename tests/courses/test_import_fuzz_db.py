"""Malformed ramps uploaded through the import page: each is refused with a clear error
naming a file, or imported whole; a refused one leaves the database exactly as it was."""

import io
import zipfile

import pytest
from django.urls import reverse

from courses.models import Concept, ConceptMisconception, Course, Item, ItemVersion, Material, Prerequisite
from tests.courses.test_ramp_fuzz import malformed_ramp

pytestmark = pytest.mark.django_db
MODELS = (Course, Concept, Prerequisite, Material, ConceptMisconception, Item, ItemVersion)


def database_snapshot():
    return {model.__name__: sorted(model.objects.values_list("pk", flat=True)) for model in MODELS}


def as_zip(files: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(f"ramp/{name}", data)
    buffer.seek(0)
    buffer.name = "ramp.zip"
    return buffer


def test_malformed_uploads_change_nothing(client, educator):
    client.force_login(educator)
    refused = 0
    for seed in range(40):
        before = database_snapshot()
        response = client.post(reverse("ramp_upload"), {"archive": as_zip(malformed_ramp(seed))})
        if response.status_code == 400:
            refused += 1
            html = response.content.decode()
            assert "Nothing was changed" in html and ("course.yaml" in html or "concepts/" in html), seed
            assert database_snapshot() == before, f"seed {seed} changed the database"
        else:
            assert response.status_code == 302, seed
            Course.objects.all().delete()
    assert refused >= 20
