"""Reading settings from the environment, with one clear line per mistake.

Start-up must never end in a traceback because of a typo in an environment variable:
every reader raises `EnvError` naming the variable and what was expected, and the entry
points (manage.py, wsgi, celery) print that one line and exit.
"""

import os
import sys
from urllib.parse import urlparse


class EnvError(Exception):
    """A missing or malformed environment variable."""

    def __init__(self, name: str, expected: str, got: str | None = None):
        self.name = name
        shown = "it is not set" if got is None else f"got {got!r}"
        super().__init__(f"{name}: expected {expected}; {shown}")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise EnvError(name, "a value")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(name, "one of 1/0, true/false, yes/no, on/off", value)


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(name, "a whole number", value) from None
    if number < minimum:
        raise EnvError(name, f"a whole number of at least {minimum}", value)
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    items = [part.strip() for part in value.split(",") if part.strip()]
    if not items:
        raise EnvError(name, "a comma-separated list with at least one entry", value)
    return items


def env_url(name: str, default: str | None, *, schemes: tuple[str, ...]) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    parsed = urlparse(value)
    if parsed.scheme not in schemes:
        raise EnvError(name, "a URL starting with " + " or ".join(f"{s}://" for s in schemes), value)
    if parsed.scheme not in ("sqlite",) and not parsed.hostname and "unix" not in parsed.scheme:
        raise EnvError(name, f"a {parsed.scheme}:// URL with a host", value)
    return value


def exit_on_env_error(error: EnvError) -> None:
    """Print the one line the operator needs and stop (used by every entry point)."""
    sys.stderr.write(f"Ramp cannot start: configuration error: {error}\n")
    raise SystemExit(2)
