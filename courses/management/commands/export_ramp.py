"""Export a course as a ramp folder: `python manage.py export_ramp SLUG PATH`.

The files are canonical: export → import → export gives byte-identical files.
"""

from django.core.management.base import BaseCommand, CommandError

from courses.models import Course
from courses.ramp_files import write_ramp
from courses.ramp_import import course_to_spec


class Command(BaseCommand):
    help = "Write a course to a ramp folder (course.yaml + concepts/*.md)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("path")

    def handle(self, *args, slug, path, **options):
        course = Course.objects.filter(slug=slug).first()
        if course is None:
            raise CommandError(f"no course with the slug {slug!r}")
        write_ramp(course_to_spec(course=course), path)
        self.stdout.write(f"Wrote {course.slug} to {path}")
