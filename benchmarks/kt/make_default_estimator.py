"""Fit the default knowledge-model weights that a new course starts from.

    python -m benchmarks.kt.make_default_estimator TRAIN.csv [--out learner/default_estimator.json]

TRAIN.csv is a response log in Ramp's CSV format (user_id,skill_id,correct[,timestamp,
item_id]). Only the shared weights are used by new courses (benchmarks.kt.estimator_params drops
the skill- and item-specific parts), so the file carries what transfers between subjects:
how history, recency, streaks and hints predict the next answer. The shipped file was
fitted on the ASSISTments 2015 skill-builder log (see docs/knowledge-model.md for credit).
"""

import argparse
import json
import time
from pathlib import Path

from benchmarks.kt.ramp import RampKT
from learner.response_log import read_sequences

DEFAULT_OUT = Path(__file__).with_name("default_estimator.json")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    sequences = read_sequences(args.train)
    model = RampKT().fit(list(sequences.values()))
    params = model.to_dict()
    # What a new course can use; the rest belongs to the log it was fitted on.
    params.update(base_rate={}, skill_bias={}, item_difficulty={}, skill_weights={})
    params["fitted_on"] = {"file": Path(args.train).name, "responses": sum(map(len, sequences.values()))}
    Path(args.out).write_text(json.dumps(params, indent=1, sort_keys=True) + "\n")
    print(
        json.dumps({"out": args.out, "seconds": round(time.perf_counter() - start, 1), **params["fitted_on"]})
    )


if __name__ == "__main__":
    main()
