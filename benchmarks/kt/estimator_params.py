"""An estimator from the parameters it was saved with (``to_dict()``): RampKT, or RampKT
blended with recurrent models (``kind: ramp_gru``)."""

from benchmarks.kt.base import Estimator
from benchmarks.kt.ramp import RampKT


def estimator_from_params(params: dict) -> Estimator:
    # "ramp_gru" (RampKT blended with recurrent models, benchmarks.kt.recurrent) only comes
    # from a fit on a large log of the course itself; everything else is plain RampKT.
    if params.get("kind") == "ramp_gru":
        from benchmarks.kt.recurrent import RampGRU

        return RampGRU.from_dict(params)
    return RampKT.from_dict(params)
