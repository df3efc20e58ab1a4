from django.contrib.auth.forms import UserCreationForm

from core.accounts.models import User


class SignupForm(UserCreationForm):
    """Sign-up creates learners only; educators and admins are appointed by an admin."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
