"""What admins and educators see of the tutor's words, and who may see it."""

import pytest
from django.urls import reverse

from models_train.versions import model_version_promote, model_version_register
from tests.tutor.answers import finish_placement
from tutor.models import TutorMessage

pytestmark = pytest.mark.django_db


def said(
    enrollment, concept, *, moment="chat", request="", source="model", refusal="", rating="", version=None
):
    return TutorMessage.objects.create(
        enrollment=enrollment,
        concept=concept,
        moment=moment,
        status="done",
        source=source,
        refusal=refusal,
        rating=rating,
        request=request,
        situation={},
        fallback="authored",
        text="words",
        model_version=version,
    )


def test_admins_see_per_version_how_often_the_models_words_were_shown(
    client, admin_user, learner, published_course
):
    version = model_version_register(name="tutor-7", checkpoint_path="/x")
    model_version_promote(version=version, override_reason="test")
    enrollment, step = finish_placement(learner, published_course)
    said(enrollment, step.concept, version=version, rating="helpful")
    said(enrollment, step.concept, version=version, rating="gave_away")
    said(enrollment, step.concept, version=version, source="authored", refusal="reveals")
    said(enrollment, step.concept, version=version, source="authored", refusal="ungrounded_term")
    client.force_login(admin_user)
    html = client.get(reverse("tutor_voice")).content.decode()
    assert "tutor-7" in html and "50%" in html and "reveals: 1" in html and "ungrounded_term: 1" in html
    # the models page loads the same table in place
    models_page = client.get(reverse("models_page")).content.decode()
    assert f'hx-get="{reverse("tutor_voice")}"' in models_page
    fragment = client.get(reverse("tutor_voice"), headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="voice"') and "tutor-7" in fragment


def test_educators_see_shared_questions_without_names(client, make_user, published_course):
    sharing, private = make_user("learner"), make_user("learner")
    sharing.shares_questions = True
    sharing.save()
    for learner, question in (
        (sharing, "Why is the denominator at the bottom?"),
        (private, "Is this on the test?"),
    ):
        enrollment, step = finish_placement(learner, published_course)
        said(enrollment, step.concept, request=question)
    owner = published_course.owners.first()
    client.force_login(owner)
    html = client.get(reverse("course_questions", args=[published_course.slug])).content.decode()
    assert "Why is the denominator at the bottom?" in html
    assert "Is this on the test?" not in html  # not shared
    assert sharing.username not in html and private.username not in html
    # sharing is read now: turned off, the question is gone
    sharing.shares_questions = False
    sharing.save()
    html = client.get(reverse("course_questions", args=[published_course.slug])).content.decode()
    assert "Why is the denominator at the bottom?" not in html


def test_who_may_see_them(client, make_user, published_course):
    client.force_login(make_user("learner"))
    assert client.get(reverse("tutor_voice")).status_code == 403
    assert client.get(reverse("course_questions", args=[published_course.slug])).status_code == 403
    client.force_login(make_user("educator"))  # not this course's educator
    assert client.get(reverse("tutor_voice")).status_code == 403
    assert client.get(reverse("course_questions", args=[published_course.slug])).status_code == 403


def test_shared_conversations_become_training_dialogues(make_user, published_course, tmp_path):
    from models_train.dialogue import load_dialogues
    from tutor.conversations import conversations_export

    sharing, private = make_user("learner", username="ada-lovelace"), make_user("learner")
    sharing.shares_questions = True
    sharing.save()
    situation = {
        "course": "Tiny fractions",
        "concept": "What a fraction is",
        "request": "What is a numerator?",
        "candidates": [["Material", "The numerator counts the parts we take."]],
    }
    for learner in (sharing, private):
        enrollment, step = finish_placement(learner, published_course)
        message = said(enrollment, step.concept, request="What is a numerator?")
        TutorMessage.objects.filter(pk=message.pk).update(
            situation=situation, text="It counts the parts we take."
        )
    bad = said(enrollment := finish_placement(sharing, published_course)[0], step.concept, rating="gave_away")
    TutorMessage.objects.filter(pk=bad.pk).update(situation=situation)
    path, n = conversations_export(path=tmp_path / "learners.jsonl")
    [d] = load_dialogues([path])
    assert n == 1 and d["task"] == "chat" and d["meta"]["source"] == "learners"
    assert d["messages"][-1] == {"role": "tutor", "content": "It counts the parts we take."}
    assert "Material: The numerator counts the parts we take." in d["messages"][0]["content"]
    assert "ada-lovelace" not in path.read_text()  # no names
    assert d["id"].startswith("learners-") and len(d["id"]) == len("learners-") + 16  # no ids either
