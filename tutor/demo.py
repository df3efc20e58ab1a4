"""Demo data for a fresh machine: one account per role, with passwords kept under var/."""

import json
import secrets

from django.conf import settings
from django.db import transaction

from core.accounts.models import Role, User
from core.accounts.services import user_create

DEMO_ACCOUNTS = (("learner", Role.LEARNER), ("educator", Role.EDUCATOR), ("admin", Role.ADMIN))


def _passwords_file():
    return settings.VAR_DIR / "demo-accounts.json"


@transaction.atomic
def demo_accounts_ensure() -> dict[str, str]:
    """Create the demo accounts that are missing; return username → password for all.

    Passwords are random per machine (never in the repository) and kept in
    var/demo-accounts.json so the run command can print them every time.
    """
    path = _passwords_file()
    known = json.loads(path.read_text()) if path.exists() else {}
    for username, role in DEMO_ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(9)
            user_create(username=username, password=password, email=f"{username}@example.com", role=role)
            known[username] = password
        elif username not in known:
            # The account exists but its password was not made here: set a new known one.
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save(update_fields=["password"])
            known[username] = password
    path.write_text(json.dumps(known, indent=2))
    path.chmod(0o600)
    return {username: known[username] for username, _ in DEMO_ACCOUNTS}


SEED_RAMPS = settings.BASE_DIR / "ramps"


def demo_ramps_ensure(*, owner_username: str = "educator") -> list[str]:
    """Import and publish each seed ramp under ramps/ whose course doesn't exist yet.

    Existing courses are left alone, so edits made in the browser survive a restart.
    Returns one line per ramp saying what happened.
    """
    from courses.models import Course
    from courses.ramp_files import RampFileError, read_ramp
    from courses.ramp_import import course_import
    from courses.services import CourseEditError, course_publish

    owner = User.objects.get(username=owner_username)
    lines = []
    for folder in sorted(p for p in SEED_RAMPS.iterdir() if (p / "course.yaml").is_file()):
        try:
            spec = read_ramp(folder)
        except RampFileError as error:
            lines.append(f"{folder.name}: not imported: {error}")
            continue
        if Course.objects.filter(slug=spec.slug).exists():
            lines.append(f"{spec.slug}: already there")
            continue
        report = course_import(spec=spec, user=owner)
        try:
            course_publish(course=report.course)
            lines.append(f"{spec.slug}: imported and published ({len(spec.concepts)} concepts)")
        except CourseEditError as error:
            lines.append(f"{spec.slug}: imported as a draft: {error}")
    return lines


def demo_model_ensure() -> str:
    """Queue the default tutor's training on the gpu worker when there is no model yet."""
    from models_train.models import ModelVersion
    from models_train.training import training_run_active, training_run_request

    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active is not None:
        return f"{active.name} is active"
    if training_run_active() is not None:
        return "the default tutor's training is already queued or running (see /system/models/)"
    training_run_request(user=User.objects.filter(username="admin").first())
    return "the default tutor is being trained on the gpu worker, a few minutes on CPU (see /system/models/)"
