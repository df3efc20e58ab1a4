#!/usr/bin/env python
"""Ramp's management commands: `python manage.py help` lists them."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
    from django.core.management import execute_from_command_line

    from tutor.env import EnvError, exit_on_env_error

    try:
        execute_from_command_line(sys.argv)
    except EnvError as error:
        exit_on_env_error(error)


if __name__ == "__main__":
    main()
