from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    LEARNER = "learner", "Learner"
    EDUCATOR = "educator", "Educator"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    """A person using Ramp. One role each; admins may do what educators do."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.LEARNER)
    shares_questions = models.BooleanField(
        default=False,
        help_text="Keep this learner's questions and tutor conversations, without their name, for the "
        "course's authors and the next training of the tutor model.",
    )

    @property
    def is_educator(self) -> bool:
        return self.role in (Role.EDUCATOR, Role.ADMIN)

    @property
    def is_ramp_admin(self) -> bool:
        return self.role == Role.ADMIN

    def has_role(self, role: str) -> bool:
        """True when this user may act in `role` (admins may act as educators)."""
        if role == Role.LEARNER:
            return True
        if role == Role.EDUCATOR:
            return self.is_educator
        return self.is_ramp_admin
