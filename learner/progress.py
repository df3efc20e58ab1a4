"""A learner's progress in one course, read from their response log and knowledge state.

What counts, and why:

- **Mastered over time.** A concept counts from the moment Ramp first counted it as mastered
  (``ConceptState.mastered_at``, recorded by learner.knowledge as it happens). It is
  *learned here* when the learner had practised it (any answer outside placement) by then,
  *already known* when placement or answers on related concepts showed it. A concept that
  has faded below the bar since stays counted and is listed as due for a refresher.
- **Time studied.** The time taken on each answer (``Response.time_taken_ms``, measured by
  the page from showing the question to the answer), at most ``TIME_CAP`` per answer: a
  question left open while the learner was away is not hours of study.
- **Streak of understanding.** Right answers in a row without a hint, on what Ramp chose for
  learning (new concepts, practice, reviews and probing questions; placement only measures
  what was known before). A wrong answer or "I don't know" starts it again; a right answer
  after a hint doesn't add to it and doesn't end it. Days off don't matter: it counts
  understanding shown, not visits.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from learner.models import ConceptState, Enrollment, Response, Step

TIME_CAP = timedelta(minutes=10)
LEARNING_KINDS = frozenset({Step.Kind.NEW, Step.Kind.PRACTICE, Step.Kind.REVIEW, Step.Kind.PROBE})


@dataclass
class MasteredConcept:
    slug: str
    title: str
    at: datetime
    learned_here: bool  # practised before it counted as mastered (else already known)
    faded: bool  # below the bar now: due for a refresher


def duration_words(span: timedelta) -> str:
    minutes = round(span / timedelta(minutes=1))
    if minutes < 1:
        return "under a minute" if span else "no time"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@dataclass
class Day:
    day: date
    answers: int = 0
    studied: timedelta = timedelta(0)
    mastered: list[MasteredConcept] = field(default_factory=list)
    total_mastered: int = 0  # by the end of the day

    @property
    def studied_words(self) -> str:
        return duration_words(self.studied)


@dataclass
class Streak:
    current: int
    best: int


def understanding_streak(answers: list[tuple[str, str, int]]) -> Streak:
    """``answers``: (kind, outcome, hints used) in the order given (see the module docstring)."""
    current = best = 0
    for kind, outcome, hints in answers:
        if kind not in LEARNING_KINDS:
            continue
        if outcome != Response.Outcome.CORRECT:
            current = 0
        elif hints == 0:
            current += 1
            best = max(best, current)
    return Streak(current=current, best=best)


def studied_time(milliseconds: list[int | None]) -> timedelta:
    cap = TIME_CAP / timedelta(milliseconds=1)
    return timedelta(milliseconds=sum(min(ms, cap) for ms in milliseconds if ms is not None))


def learner_progress(*, enrollment: Enrollment, now: datetime | None = None) -> dict:
    """Everything the progress page shows, for one enrollment (the caller has scoped it to the
    signed-in learner)."""
    now = now or timezone.now()
    course = enrollment.course
    n_concepts = course.concepts.filter(retired_at__isnull=True).count()
    answers = list(
        Response.objects.filter(enrollment=enrollment)
        .order_by("id")
        .values_list(
            "created_at", "kind", "outcome", "hints_used", "time_taken_ms", "concept_id", "step__answered_at"
        )
    )
    # By the step's answered_at: the very moment the answer was absorbed, which is the
    # mastered_at of a concept that this answer took over the bar (created_at is a little later).
    first_practice: dict[int, datetime] = {}
    for created_at, kind, _, _, _, concept_id, answered_at in answers:
        if kind in LEARNING_KINDS:
            first_practice.setdefault(concept_id, answered_at or created_at)
    states = list(
        ConceptState.objects.filter(enrollment=enrollment, concept__retired_at__isnull=True)
        .select_related("concept")
        .order_by("mastered_at", "concept__position", "concept_id")
    )
    threshold = course.mastery_threshold
    mastered = [
        MasteredConcept(
            slug=s.concept.slug,
            title=s.concept.title,
            at=s.mastered_at,
            learned_here=s.concept_id in first_practice and first_practice[s.concept_id] <= s.mastered_at,
            faded=s.p_mastery < threshold,
        )
        for s in states
        if s.mastered_at is not None
    ]
    # Mastered before Ramp recorded the moment (see migration 0007): counted, not dated.
    undated = sum(1 for s in states if s.mastered_at is None and s.p_mastery >= threshold)

    days: dict[date, Day] = {}

    def day_of(moment: datetime) -> Day:
        key = timezone.localdate(moment)
        return days.setdefault(key, Day(key))

    for created_at, _, _, _, ms, _, _ in answers:
        d = day_of(created_at)
        d.answers += 1
        d.studied += studied_time([ms])
    for m in mastered:
        day_of(m.at).mastered.append(m)
    timeline = [days[k] for k in sorted(days)]
    total = 0
    for d in timeline:
        total += len(d.mastered)
        d.total_mastered = total

    return {
        "n_concepts": n_concepts,
        "mastered": mastered,
        "mastered_now": sum(1 for s in states if s.p_mastery >= threshold),
        "learned_here": sum(1 for m in mastered if m.learned_here),
        "already_known": sum(1 for m in mastered if not m.learned_here),
        "faded": [m for m in mastered if m.faded],
        "undated": undated,
        "n_answers": len(answers),
        "untimed": sum(1 for a in answers if a[4] is None),
        "studied": duration_words(sum((d.studied for d in timeline), timedelta(0))),
        "study_days": sum(1 for d in timeline if d.answers),
        "time_cap_minutes": round(TIME_CAP / timedelta(minutes=1)),
        "streak": understanding_streak([(kind, outcome, hints) for _, kind, outcome, hints, *_ in answers]),
        "timeline": timeline,
        "chart": mastery_chart(
            timeline,
            start=timezone.localdate(enrollment.started_at),
            end=timezone.localdate(now),
            top=n_concepts,
        )
        if timeline
        else None,
    }


# --- the chart: concepts mastered by day, drawn as SVG by the template -------------------

WIDTH, HEIGHT = 420, 210
LEFT, RIGHT, TOP, BOTTOM = 36, 16, 14, 30


@dataclass
class Tick:
    at: float  # x or y in the chart's coordinates
    label: str


def _day_label(d: date) -> str:
    return f"{d.day} {d.strftime('%b')}"


def mastery_chart(timeline: list[Day], *, start: date, end: date, top: int) -> dict:
    """Coordinates for a step line of the concepts mastered by the end of each day, from
    ``start`` to ``end`` (days), against the course's ``top`` concepts. Each day is a slot
    of the x axis and its step is drawn in the slot's middle, so a single day shows too."""
    start = min([start] + [d.day for d in timeline])
    end = max([end] + [d.day for d in timeline])
    n_days = (end - start).days + 1
    top = max(top, timeline[-1].total_mastered if timeline else 0, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(d: date) -> float:
        return round(LEFT + plot_w * ((d - start).days + 0.5) / n_days, 1)

    def y(n: int) -> float:
        return round(TOP + plot_h * (1 - n / top), 1)

    points, dots, level = [(LEFT, y(0))], [], 0
    for d in timeline:
        if d.total_mastered != level:
            points.append((x(d.day), y(level)))
            level = d.total_mastered
            points.append((x(d.day), y(level)))
            dots.append(
                {
                    "x": x(d.day),
                    "y": y(level),
                    "label": f"{_day_label(d.day)}: {level} mastered ({len(d.mastered)} new)",
                }
            )
    points.append((WIDTH - RIGHT, y(level)))
    y_values = sorted({0, top // 2, top})
    x_days = (
        [start]
        if n_days == 1
        else [start, end]
        if n_days < 5
        else [start, start + timedelta(days=n_days // 2), end]
    )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "points": " ".join(f"{px},{py}" for px, py in points),
        "dots": dots,
        "y_ticks": [Tick(y(n), str(n)) for n in y_values],
        "x_ticks": [Tick(x(d), _day_label(d)) for d in x_days],
        "summary": (
            f"From {_day_label(start)} to {_day_label(end)}: {level} of {top} concepts mastered"
            if level
            else f"From {_day_label(start)} to {_day_label(end)}: no concept mastered yet"
        ),
    }
