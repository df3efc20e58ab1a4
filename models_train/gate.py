"""The eval gate: the checks a version's report must pass before it serves learners, and its
report set beside the active version's (what got better or worse).

The checks are configuration (settings.RAMP_PROMOTION_GATE): each is
(metric path, comparison, value, label), the path a dotted walk into the nested dict
`ModelVersion.metrics` (the training summary), e.g.

    ("serving.mistake.served_share", ">=", 0.8, "mistake replies served from the model")

A metric missing from a report counts as "not measured" and fails the check: a gate that
passes what was never measured is no gate. Promoting below the gate needs a reason
(models_train/versions.py), which is recorded.
"""

import operator
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

COMPARISONS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
# Shown beside the gate's metrics when comparing two versions; (path, lower is better, label).
REPORT_METRICS = (
    ("dialogue_loss", True, "held-out dialogue loss (all sources)"),
    ("val_bpb", True, "held-out bits per byte"),
    ("sft.val_loss", True, "fine-tuning validation loss (best step)"),
    ("sft.train_loss_mean", True, "fine-tuning train loss (mean, same step)"),
    ("params", None, "parameters"),
)


@dataclass(frozen=True)
class Threshold:
    path: str
    comparison: str
    value: float
    label: str

    @property
    def lower_is_better(self) -> bool:
        return self.comparison in ("<=", "<")

    @property
    def symbol(self) -> str:
        return {">=": "≥", "<=": "≤"}.get(self.comparison, self.comparison)


@dataclass(frozen=True)
class Check:
    threshold: Threshold
    value: float | None  # None: the report does not have it

    @property
    def status(self) -> str:
        if self.value is None:
            return "not measured"
        passed = COMPARISONS[self.threshold.comparison](self.value, self.threshold.value)
        return "pass" if passed else "fail"

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def as_dict(self) -> dict:
        return {**asdict(self.threshold), "measured": self.value, "status": self.status}


@dataclass(frozen=True)
class ReportRow:
    path: str
    label: str
    value: float | None
    active_value: float | None
    check: Check | None  # None: a metric shown for information, not part of the gate
    change: str  # "better", "worse", "same", or "" when either side is missing or no direction


def metric(metrics: dict, path: str) -> float | None:
    """The number at a dotted path of nested dicts, or None when it is not there."""
    node = metrics
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return node


def gate_thresholds() -> list[Threshold]:
    thresholds = []
    for entry in settings.RAMP_PROMOTION_GATE:
        path, comparison, value, label = entry
        if comparison not in COMPARISONS:
            raise ImproperlyConfigured(
                f"RAMP_PROMOTION_GATE: {path}: comparison must be one of {', '.join(COMPARISONS)}"
            )
        thresholds.append(Threshold(path, comparison, float(value), label))
    return thresholds


def gate_checks(metrics: dict) -> list[Check]:
    return [Check(t, metric(metrics or {}, t.path)) for t in gate_thresholds()]


def gate_failures(metrics: dict) -> list[Check]:
    return [c for c in gate_checks(metrics) if not c.passed]


def _change(value, active, lower_is_better) -> str:
    if value is None or active is None or lower_is_better is None:
        return ""
    if value == active:
        return "same"
    return "better" if (value < active) == lower_is_better else "worse"


def version_report(*, metrics: dict, active_metrics: dict | None) -> list[ReportRow]:
    """The gate's checks, then the informative metrics, each with the active version's value."""
    rows = []
    for check in gate_checks(metrics):
        t = check.threshold
        active = metric(active_metrics or {}, t.path)
        rows.append(
            ReportRow(
                t.path, t.label, check.value, active, check, _change(check.value, active, t.lower_is_better)
            )
        )
    gated = {r.path for r in rows}
    for path, lower, label in REPORT_METRICS:
        if path in gated:
            continue
        value, active = metric(metrics or {}, path), metric(active_metrics or {}, path)
        rows.append(ReportRow(path, label, value, active, None, _change(value, active, lower)))
    return rows
