"""Load Ramp's demo data: `python manage.py load_demo`.

Creates a learner, an educator and an admin account (printing their passwords) and
imports and publishes the seed ramps in ramps/ (owned by the demo educator). Safe to run
again: it only adds what is missing, so courses edited in the browser are kept.
"""

from django.core.management.base import BaseCommand

from tutor.demo import DEMO_ACCOUNTS, demo_accounts_ensure, demo_model_ensure, demo_ramps_ensure


class Command(BaseCommand):
    help = (
        "Create the demo accounts and import the seed ramps, if missing; queue the default tutor's training."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-model", action="store_true", help="don't queue the default tutor's training"
        )

    def handle(self, *args, **options):
        passwords = demo_accounts_ensure()
        self.stdout.write("Demo accounts (username / password):")
        for username, role in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role.label:<9} {username} / {passwords[username]}")
        self.stdout.write("Seed ramps:")
        for line in demo_ramps_ensure():
            self.stdout.write(f"  {line}")
        if not options["no_model"]:
            self.stdout.write("Tutor model: " + demo_model_ensure())
