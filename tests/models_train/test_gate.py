"""The eval gate: a version below the configured thresholds is promoted only with a reason,
which is recorded; the page sets each version's report beside the active one's; roll back
restores the previous version everywhere and is offered only when there is one."""

import pytest
from django.urls import reverse

from models_train.api import active_model_version
from models_train.gate import gate_checks, metric, version_report
from models_train.models import ModelVersion, ModelVersionChange
from models_train.versions import (
    BelowGate,
    model_version_promote,
    model_version_register,
    model_version_rollback,
    model_version_rollback_target,
)

GATE = [
    ("serving.mistake.served_share", ">=", 0.8, "mistake replies served from the model"),
    ("serving.reveal_after_guard", "<=", 0.0, "served replies that reveal the answer"),
    ("val_bpb", "<", 2.0, "bits per byte"),
]
GOOD = {"serving": {"mistake": {"served_share": 0.9}, "reveal_after_guard": 0.0}, "val_bpb": 1.4}


@pytest.fixture(autouse=True)
def gate(settings):
    settings.RAMP_PROMOTION_GATE = GATE


def version(name, metrics):
    return model_version_register(name=name, checkpoint_path=f"/store/{name}", metrics=metrics)


def test_a_metric_is_found_by_its_dotted_path_and_a_missing_one_is_not_measured():
    assert metric(GOOD, "serving.mistake.served_share") == 0.9
    assert metric(GOOD, "serving.mistake.probing") is None
    assert metric({"a": {"b": "text"}}, "a.b") is None and metric({"a": True}, "a") is None
    checks = gate_checks({"serving": {"mistake": {"served_share": 0.5}}})
    assert [c.status for c in checks] == ["fail", "not measured", "not measured"]
    assert [c.status for c in gate_checks(GOOD)] == ["pass", "pass", "pass"]


def test_the_report_says_what_got_better_or_worse_than_the_active_version():
    worse = {**GOOD, "serving": {"mistake": {"served_share": 0.7}, "reveal_after_guard": 0.0}, "val_bpb": 1.2}
    rows = {r.path: r for r in version_report(metrics=worse, active_metrics=GOOD)}
    assert rows["serving.mistake.served_share"].change == "worse"  # higher is better
    assert rows["val_bpb"].change == "better"  # lower is better
    assert rows["serving.reveal_after_guard"].change == "same"
    assert rows["dialogue_loss"].change == "" and rows["dialogue_loss"].check is None  # informative only


@pytest.mark.django_db
def test_promotion_below_the_gate_is_refused_without_a_reason(admin_user):
    weak = version("weak", {"val_bpb": 1.5})
    with pytest.raises(BelowGate) as refused:
        model_version_promote(version=weak, by=admin_user)
    assert {c.status for c in refused.value.failed} == {"not measured"}
    with pytest.raises(BelowGate):
        model_version_promote(version=weak, by=admin_user, override_reason="   ")
    assert ModelVersion.objects.get(pk=weak.pk).status == "candidate"
    assert active_model_version() is None and not ModelVersionChange.objects.exists()


@pytest.mark.django_db
def test_an_override_with_a_reason_promotes_and_is_recorded(admin_user):
    good = version("good", GOOD)
    model_version_promote(version=good, by=admin_user)
    weak = version("weak", {"val_bpb": 2.5})
    model_version_promote(version=weak, by=admin_user, override_reason="the GPU evaluation runs tomorrow")
    assert active_model_version() == weak
    change = ModelVersionChange.objects.first()
    assert (change.version, change.previous, change.by) == (weak, good, admin_user)
    assert change.below_gate and change.reason == "the GPU evaluation runs tomorrow"
    assert {c["path"]: c["status"] for c in change.failed_checks} == {
        "serving.mistake.served_share": "not measured",
        "serving.reveal_after_guard": "not measured",
        "val_bpb": "fail",
    }
    first = ModelVersionChange.objects.last()
    assert first.version == good and not first.below_gate and first.previous is None


@pytest.mark.django_db
def test_the_page_refuses_and_then_records_an_override(client, admin_user):
    active = version("tutor-active", GOOD)
    model_version_promote(version=active)
    weak = version("tutor-weak", {**GOOD, "val_bpb": 2.5, "serving": {"mistake": {"served_share": 0.6}}})
    client.force_login(admin_user)
    html = client.get(reverse("models_page")).content.decode()
    # the candidate's report beside the active version's
    assert "tutor-weak's report beside the active version, tutor-active" in html
    assert "below the gate: 3 of 3 checks fail" in html and "not measured" in html
    assert '<span class="bad">worse</span>' in html
    assert "Promote below the gate" in html

    response = client.post(reverse("version_promote", args=[weak.pk]), follow=True)
    assert "was not promoted" in response.content.decode()
    assert active_model_version() == active

    reason = "A <b>test</b> of the override"
    response = client.post(reverse("version_promote", args=[weak.pk]), {"reason": reason}, follow=True)
    html = response.content.decode()
    assert active_model_version() == weak
    change = ModelVersionChange.objects.first()
    assert change.by == admin_user and change.reason == reason and change.below_gate
    assert "A &lt;b&gt;test&lt;/b&gt; of the override" in html and admin_user.username in html


@pytest.mark.django_db
def test_rollback_restores_the_previous_version_everywhere(client, admin_user):
    client.force_login(admin_user)
    a = version("tutor-a", GOOD)
    model_version_promote(version=a)
    assert model_version_rollback_target() is None
    assert "Roll back" not in client.get(reverse("models_page")).content.decode()  # nothing to go back to

    b = version("tutor-b", GOOD)
    model_version_promote(version=b, by=admin_user)
    assert "Roll back to tutor-a" in client.get(reverse("models_page")).content.decode()
    client.post(reverse("version_rollback"))
    assert active_model_version() == a
    assert ModelVersion.objects.get(pk=b.pk).status == "candidate"
    change = ModelVersionChange.objects.first()
    assert change.kind == "rollback" and (change.version, change.previous, change.by) == (a, b, admin_user)
    assert "Roll back" not in client.get(reverse("models_page")).content.decode()


@pytest.mark.django_db
def test_rollback_walks_back_through_earlier_versions():
    a, b, c = version("a", GOOD), version("b", GOOD), version("c", GOOD)
    for v in (a, b, c):
        model_version_promote(version=v)
    assert model_version_rollback() == b and active_model_version() == b
    assert model_version_rollback() == a and active_model_version() == a
    assert model_version_rollback_target() is None
