"""Read, validate and write response logs (Ramp's response-log CSV format).

Format (docs/knowledge-model.md, "Response logs"): a header naming the columns ``user_id,skill_id,correct``
plus, optionally, ``timestamp``, ``item_id`` and ``hints`` (any order); one row per
response; the rows of each learner in time order (learners may be interleaved).

* ``correct`` is ``0`` or ``1`` (``0.0``/``1.0``/``true``/``false`` are accepted too).
* ``timestamp`` is seconds since the Unix epoch (int or float) or an ISO 8601 date-time
  (naive times are taken as UTC). When the column exists every row needs a valid value and
  each learner's timestamps must not decrease.
* ``item_id`` may be empty on a row (no item known); ``hints`` is a non-negative integer
  (empty = 0).

Reading is streaming (:func:`iter_responses`); malformed input raises
:class:`ResponseLogError`, whose message starts with ``path:line:``.
Plain Python: no Django.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

REQUIRED_COLUMNS = ("user_id", "skill_id", "correct")
OPTIONAL_COLUMNS = ("timestamp", "item_id", "hints")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_TRUE = {"1", "1.0", "true", "True", "TRUE"}
_FALSE = {"0", "0.0", "false", "False", "FALSE"}


@dataclass(frozen=True, slots=True)
class Response:
    """One graded response of a learner on a skill (concept)."""

    user_id: str
    skill_id: str
    correct: int
    timestamp: float | None = None  # seconds since the epoch
    item_id: str | None = None
    hints: int = 0


class ResponseLogError(ValueError):
    """A malformed response log. ``str(err)`` is ``"<path>:<line>: <message>"``."""

    def __init__(self, path: str, line: int, message: str):
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


def parse_timestamp(text: str) -> float:
    """Seconds since the epoch from a number or an ISO 8601 date-time; ValueError if bad."""
    s = text.strip()
    if not s:
        raise ValueError("empty timestamp")
    try:
        value = float(s)
    except ValueError:
        iso = s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s
        dt = datetime.fromisoformat(iso)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    if not math.isfinite(value):
        raise ValueError(f"timestamp is not finite: {text!r}")
    return value


def format_timestamp(value: float) -> str:
    """Inverse of :func:`parse_timestamp` for export (integers stay integers)."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _open_text(path_or_file) -> tuple[IO[str], str, bool]:
    if isinstance(path_or_file, (str, os.PathLike)):
        return open(path_or_file, newline="", encoding="utf-8-sig"), os.fspath(path_or_file), True
    name = getattr(path_or_file, "name", "<stream>")
    return path_or_file, str(name), False


def iter_responses(path_or_file) -> Iterator[Response]:
    """Stream validated :class:`Response` rows from a CSV path or text file object."""
    fh, name, owned = _open_text(path_or_file)
    try:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise ResponseLogError(
                name, 1, "empty file: expected a header 'user_id,skill_id,correct[,timestamp][,item_id]'"
            ) from None
        header = [h.strip() for h in header]
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        unknown = [h for h in header if h not in KNOWN_COLUMNS]
        missing = [h for h in REQUIRED_COLUMNS if h not in header]
        dupes = sorted({h for h in header if header.count(h) > 1})
        if unknown or missing or dupes:
            parts = []
            if missing:
                parts.append("missing column(s) " + ", ".join(missing))
            if unknown:
                parts.append("unknown column(s) " + ", ".join(repr(u) for u in unknown))
            if dupes:
                parts.append("duplicate column(s) " + ", ".join(dupes))
            raise ResponseLogError(
                name,
                1,
                "bad header "
                + ",".join(header)
                + ": "
                + "; ".join(parts)
                + " (expected user_id,skill_id,correct plus optional timestamp,item_id,hints)",
            )
        iu, isk, ic = (header.index(c) for c in REQUIRED_COLUMNS)
        it = header.index("timestamp") if "timestamp" in header else None
        ii = header.index("item_id") if "item_id" in header else None
        ih = header.index("hints") if "hints" in header else None
        ncol = len(header)
        last_time: dict[str, float] = {}
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) != ncol:
                raise ResponseLogError(name, line, f"expected {ncol} fields, got {len(row)}")
            user = row[iu].strip()
            skill = row[isk].strip()
            if not user:
                raise ResponseLogError(name, line, "empty user_id")
            if not skill:
                raise ResponseLogError(name, line, "empty skill_id")
            c = row[ic].strip()
            if c in _TRUE:
                correct = 1
            elif c in _FALSE:
                correct = 0
            else:
                raise ResponseLogError(name, line, f"correct must be 0 or 1, got {row[ic]!r}")
            ts = None
            if it is not None:
                try:
                    ts = parse_timestamp(row[it])
                except (ValueError, OverflowError) as exc:
                    raise ResponseLogError(name, line, f"bad timestamp {row[it]!r}: {exc}") from None
                prev = last_time.get(user)
                if prev is not None and ts < prev:
                    raise ResponseLogError(
                        name,
                        line,
                        f"rows of user {user!r} are out of time order "
                        f"(timestamp {row[it].strip()} is before the previous row's)",
                    )
                last_time[user] = ts
            item = None
            if ii is not None:
                item = row[ii].strip() or None
            hints = 0
            if ih is not None and row[ih].strip():
                try:
                    hints = int(row[ih].strip())
                except ValueError:
                    hints = -1
                if hints < 0:
                    raise ResponseLogError(
                        name, line, f"hints must be a non-negative integer, got {row[ih]!r}"
                    )
            yield Response(user, skill, correct, ts, item, hints)
    except csv.Error as exc:
        raise ResponseLogError(name, getattr(reader, "line_num", 0), f"CSV error: {exc}") from None
    finally:
        if owned:
            fh.close()


def read_responses(path_or_file) -> list[Response]:
    return list(iter_responses(path_or_file))


def group_by_learner(responses: Iterable[Response]) -> dict[str, list[Response]]:
    """Learner id -> that learner's responses in order (learners in order of first row)."""
    out: dict[str, list[Response]] = {}
    for r in responses:
        seq = out.get(r.user_id)
        if seq is None:
            out[r.user_id] = seq = []
        seq.append(r)
    return out


def read_sequences(path_or_file) -> dict[str, list[Response]]:
    return group_by_learner(iter_responses(path_or_file))


def write_responses(path_or_file, responses: Iterable[Response], columns: Sequence[str] | None = None) -> int:
    """Write responses as CSV; returns the number of rows written.

    ``columns`` defaults to the required ones plus ``timestamp``/``item_id``/``hints`` when
    the first response has a value for them. A path is written atomically enough for
    exports (whole file then close); a file object is written as is.
    """
    responses = iter(responses)
    first = next(responses, None)
    if columns is None:
        columns = list(REQUIRED_COLUMNS)
        if first is not None:
            if first.timestamp is not None:
                columns.append("timestamp")
            if first.item_id is not None:
                columns.append("item_id")
            if first.hints:
                columns.append("hints")
    bad = [c for c in columns if c not in KNOWN_COLUMNS]
    if bad or any(c not in columns for c in REQUIRED_COLUMNS):
        raise ValueError(f"bad columns {list(columns)}")
    if isinstance(path_or_file, (str, os.PathLike)):
        fh: IO[str] = open(path_or_file, "w", newline="", encoding="utf-8")
        owned = True
    else:
        fh, owned = path_or_file, False
    n = 0
    try:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        if first is None:
            return 0
        import itertools

        for r in itertools.chain([first], responses):
            row = []
            for c in columns:
                if c == "timestamp":
                    row.append("" if r.timestamp is None else format_timestamp(r.timestamp))
                elif c == "item_id":
                    row.append(r.item_id or "")
                elif c == "correct":
                    row.append("1" if r.correct else "0")
                else:
                    row.append(getattr(r, c))
            w.writerow(row)
            n += 1
    finally:
        if owned:
            fh.close()
    return n


def responses_to_csv_text(responses: Iterable[Response], columns: Sequence[str] | None = None) -> str:
    buf = io.StringIO()
    write_responses(buf, responses, columns)
    return buf.getvalue()
