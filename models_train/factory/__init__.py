"""The tutoring-dialogue factory: ramps (CourseSpecs) → dialogues the tutor model learns from.

The Django side of `models_train`: it reads courses through `courses`' plain modules (specs,
variants, checkers, ramp_files) and writes the dialogue JSONL format that the plain-PyTorch
modules consume; nothing in those modules imports this package.

    from courses.ramp_files import read_ramp
    from models_train.factory import build_dialogues
    dialogues = build_dialogues([read_ramp("ramps/from-lookup-table-to-gpt")], seed=0, per_item=2)

Kinds of dialogue (`meta.kind`; the format's `task` in brackets): explain [explain],
answer_question [chat], next_hint [hint], try_first [hint], probe_misconception
[respond_to_mistake], unmatched_mistake [respond_to_mistake], practice_question
[practice_question]. The practice-question output format is in `structured`.
"""

from .builder import KINDS, BuildReport, build_dialogues, choose_heldout_concepts, course_dialogues
from .loading import RampLoadError, load_courses
from .structured import parse_item_line, rebuild

__all__ = [
    "KINDS",
    "BuildReport",
    "build_dialogues",
    "choose_heldout_concepts",
    "course_dialogues",
    "RampLoadError",
    "load_courses",
    "parse_item_line",
    "rebuild",
]
