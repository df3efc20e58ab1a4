"""Which estimator parameters a course uses before and after calibration.

Before a course has enough answers of its own, Ramp uses the shared weights in
`default_estimator.json` (how history, recency, hints and streaks predict success),
fitted on a public response log (see docs/knowledge-model.md for how it was made and the
credit), with every concept at the average difficulty and every item at its author's
prior. Calibration (learner.calibration) replaces them with a fit on the course's own log.
"""

import json
from pathlib import Path

from benchmarks.kt.base import Estimator
from benchmarks.kt.ramp import RampKT

DEFAULT_PARAMS = Path(__file__).with_name("default_estimator.json")


def estimator_from_params(params: dict) -> Estimator:
    # "ramp_gru" (RampKT blended with recurrent models, benchmarks.kt.recurrent) only comes
    # from a fit on a large log of the course itself; everything else is plain RampKT.
    if params.get("kind") == "ramp_gru":
        from benchmarks.kt.recurrent import RampGRU

        return RampGRU.from_dict(params)
    return RampKT.from_dict(params)


def default_estimator() -> Estimator:
    params = json.loads(DEFAULT_PARAMS.read_text())
    # Skill- and item-specific parts belong to the log they were fitted on, not to a new
    # course: keep only what transfers.
    params.update(base_rate={}, skill_bias={}, item_difficulty={}, skill_weights={})
    return RampKT.from_dict(params)
