"""python manage.py simulate_learners: the placement + policy benchmark on simulated learners.

A thin wrapper over :mod:`benchmarks.simulation.cli` that adds ``--ramp SLUG`` (a course in
the database, through ``learner.graph_from_db``). Prints a human table, then one JSON
summary line last.
"""

from django.core.management.base import BaseCommand, CommandError

from benchmarks.simulation import cli


class Command(BaseCommand):
    help = "Benchmark placement and the tutoring policy on simulated learners (JSON summary last)."

    def add_arguments(self, parser):
        cli.add_arguments(parser, with_slug=True)

    def handle(self, *args, **options):
        graph = source = None
        if options.get("ramp"):
            from courses.models import Course
            from learner.graph_from_db import course_graph_for

            try:
                course = Course.objects.get(slug=options["ramp"])
            except Course.DoesNotExist as exc:
                raise CommandError(f"no course with slug {options['ramp']!r}") from exc
            graph, source = course_graph_for(course), f"db:{course.slug}"
        # cli.run print()s: without this the wrapper would add a second newline to each line and
        # the JSON summary would not be the last line
        self.stdout.ending = ""
        try:
            cli.run(options, graph=graph, source=source, out=self.stdout)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
