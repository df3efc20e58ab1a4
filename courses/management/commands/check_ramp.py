"""manage.py check_ramp PATH: the ramp checks (see courses.ramp_checks) on a folder or zip."""

from django.core.management.base import BaseCommand, CommandError

from courses.ramp_checks import DEFAULT_VARIANTS, run


class Command(BaseCommand):
    help = "Check a ramp folder or .zip: cycles, answers, constraints, misconceptions, forward references."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a ramp folder or .zip")
        parser.add_argument(
            "--variants", type=int, default=DEFAULT_VARIANTS, help="variants of each template to verify"
        )

    def handle(self, *args, path, variants, **options):
        status = run(path, self.stdout, variants=variants)
        if status:
            raise CommandError(
                "the ramp has findings" if status == 1 else "the ramp can't be read", returncode=status
            )
