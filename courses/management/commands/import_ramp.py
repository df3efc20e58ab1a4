"""Import a ramp folder or zip: `python manage.py import_ramp ramps/fractions-to-linear-equations`.

Atomic: on any error nothing changes and every problem is printed as file:line: message.
Re-importing an updated ramp updates the course in place and keeps its ids.
"""

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from core.accounts.models import User
from courses.ramp_files import RampFileError, read_ramp
from courses.ramp_import import course_import


class Command(BaseCommand):
    help = "Import (or update) a course from a ramp folder or .zip."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--owner", default=None, help="username that owns a new course (default: the first admin)"
        )
        parser.add_argument("--publish", action="store_true", help="publish the course after importing it")

    def handle(self, *args, path, owner, publish, **options):
        user = self._owner(owner)
        try:
            spec = read_ramp(path)
            report = course_import(spec=spec, user=user)
        except RampFileError as error:
            raise CommandError(f"nothing was imported:\n{error}") from None
        except FileNotFoundError as error:
            raise CommandError(f"no ramp at {path}: {error}") from None
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        self.stdout.write(report.summary())
        if publish:
            from courses.services import CourseEditError, course_publish

            try:
                course_publish(course=report.course)
            except CourseEditError as error:
                raise CommandError(f"imported, but not published: {error}") from None
            self.stdout.write(f"Published {report.course.slug} (version {report.course.version}).")

    def _owner(self, username):
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"--owner: no user called {username!r}")
            return user
        user = User.objects.filter(role="admin").order_by("id").first()
        if user is None:
            raise CommandError("no admin account exists yet: pass --owner USERNAME (an educator or admin)")
        return user
