"""Changing accounts: creating users with a role, changing roles."""

from django.db import transaction

from core.accounts.models import Role, User


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "", role: str = Role.LEARNER) -> User:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(Role.values)}")
    user = User(username=username, email=email, role=role)
    # Admins also get Django's admin site, which is where roles are changed.
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def user_set_role(*, user: User, role: str) -> User:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(Role.values)}")
    user.role = role
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    return user


def user_set_shares_questions(*, user: User, shares: bool) -> User:
    """Whether the learner's questions to the tutor are shared, without their name, with the
    course's authors and for the tutor's next training. Revocable: sharing is read at the time
    of use, so turning it off hides what was shared before."""
    user.shares_questions = bool(shares)
    user.save(update_fields=["shares_questions"])
    return user
