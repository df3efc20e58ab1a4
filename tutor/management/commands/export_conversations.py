"""manage.py export_conversations [PATH]: the conversations learners share, as training dialogues
(see tutor/conversations.py). Default: RAMP_MODEL_STORE/conversations/learners.jsonl, which the
default training reads."""

from django.core.management.base import BaseCommand

from tutor.conversations import conversations_export


class Command(BaseCommand):
    help = "Export the conversations learners share with the tutor as training dialogues (JSONL)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=None)

    def handle(self, *args, path, **options):
        written, n = conversations_export(path=path)
        self.stdout.write(f"{n} dialogues -> {written}")
