"""The tutor's own tasks on the ramps' held-out dialogues (Django side: the verifier reads the
courses). Used by `manage.py train_default_tutor` after training and by `manage.py
evaluate_tutor` for any checkpoint.

    from models_train.ramp_eval import evaluate_on_ramps, sample_per_kind
    chosen = sample_per_kind(dialogues, 12, seed=0, n_practice=40)
    report = evaluate_on_ramps(model, tok, courses, chosen)

Replies (hints, mistakes) are generated greedily and scored for revealing the answer and for
probing; practice requests are written twice - freely, with the practice calculator, and
inside the format (`verify.make_practice_writer`) - and judged by the course's checker, with
the reasons the constrained ones failed counted (`verify.check_practice`).
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict

from models_train import evaluate
from models_train.verify import make_calculator, make_practice_writer, make_verifier

GENERATED_KINDS = ("next_hint", "try_first", "probe_misconception", "unmatched_mistake", "practice_question")


def sample_per_kind(dialogues, n: int | None, seed: int, n_practice: int | None = None) -> list[dict]:
    """Up to n held-out dialogues of each generated kind (n_practice practice questions; None:
    all of them), a seeded sample."""
    by_kind = defaultdict(list)
    for d in dialogues:
        if d["split"] == "heldout" and d["meta"].get("kind") in GENERATED_KINDS:
            by_kind[d["meta"]["kind"]].append(d)
    out = []
    for kind in GENERATED_KINDS:
        pool = sorted(by_kind[kind], key=lambda d: d["id"])
        random.Random(f"{seed}:{kind}").shuffle(pool)
        take = n_practice if kind == "practice_question" else n
        out += pool if take is None else pool[:take]
    return out


_STATED = re.compile(r"stated answer (?P<q>['\"]).*(?P=q) is (?P<outcome>\w+)", re.S)


def _reason(why: str) -> str:
    """A failure reason without its particulars (values, slugs), for counting."""
    m = _STATED.match(why)
    if m:
        return f"stated answer is {m.group('outcome')}"
    for prefix in ("item is", "item of concept", "no item", "params:"):
        if why.startswith(prefix):
            return prefix.rstrip(":")
    return why.split(":")[0][:60]


def evaluate_on_ramps(
    model,
    tok,
    courses,
    chosen: list[dict],
    *,
    new_tokens: int = 48,
    practice_tokens: int = 160,
    seed: int = 0,
) -> dict:
    """{"replies", "practice", "practice_constrained"} sections as `evaluate.evaluate_model`
    reports them, plus "practice_constrained"["failures"]: why the rejected ones were rejected."""
    verify = make_verifier(courses)
    practice = [d for d in chosen if d["task"] == "practice_question"]
    replies = [d for d in chosen if d["task"] != "practice_question"]
    out: dict = {}
    for name, subset, tokens, extra in (
        ("replies", replies, new_tokens, {}),
        ("practice", practice, practice_tokens, {"calc": make_calculator(courses)}),
        (
            "practice_constrained",
            practice,
            practice_tokens,
            {"write_practice": make_practice_writer(courses), "loss": False, "keep_outputs": True},
        ),
    ):
        if not subset:
            continue
        r = evaluate.evaluate_model(
            model,
            tok,
            subset,
            verify=verify,
            max_new_tokens=tokens,
            practice_new_tokens=tokens,
            seed=seed,
            **extra,
        )
        out[name] = {
            k: r[k] for k in ("generation", "examples", "settings", "seconds", "dialogue_loss") if k in r
        }
        if "outputs" in r:
            by_id = {d["id"]: d for d in subset}
            reasons = Counter()
            for row in r["outputs"]:
                ok, why = verify.check(by_id[row["id"]]["meta"], row["generated"])
                if not ok:
                    reasons[_reason(why) if row["generated"] else "no question written"] += 1
            out[name]["failures"] = dict(reasons.most_common())
    return out


def rates(report: dict, section: str, key: str = "all") -> dict:
    return report.get(section, {}).get("generation", {}).get(key, {})
