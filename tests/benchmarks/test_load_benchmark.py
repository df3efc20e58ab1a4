"""The load benchmark runs end to end on a tiny load and prints its JSON summary last."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_redis

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_load_benchmark_runs_on_a_tiny_load():
    require_redis()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.load",
            "--learners",
            "2",
            "--duration",
            "4",
            "--saturate",
            "1",
            "--arrive",
            "0.5",
            "--think",
            "0.1",
            "--clients",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    [run] = summary["runs"]
    assert run["endpoints"]["answer"]["n"] > 0 and run["minimal_view_rps"] > 0
    pages = ("answer", "next question", "study page", "hint")
    assert run["endpoints"]["pages (all)"]["n"] == sum(run["endpoints"].get(p, {}).get("n", 0) for p in pages)
    assert {"answer_p95_ms", "answer_vs_minimal_rps", "errors"} <= set(summary["targets"])
    assert summary["targets"]["errors"]["measured"] == 0
    # the server's own time for each request the learners made, from gunicorn's access log
    assert run["server"]["answer"]["n"] == run["endpoints"]["answer"]["n"]
    assert run["server"]["answer"]["p50_ms"] <= run["endpoints"]["answer"]["p99_ms"]


def test_server_times_name_each_endpoint_and_skip_the_rest():
    from benchmarks.load.harness import server_times

    lines = [
        "POST /learn/fractions/answer/ 200 41\n",
        "POST /learn/fractions/answer/ 200 59\n",
        "GET /learn/fractions/ 200 12\n",
        "GET /learn/fractions/step/ 200 8\n",
        "GET /livez 200 0\n",  # the saturation runs' minimal view: not a learner's request
        "garbled\n",
    ]
    times = server_times(lines)
    assert set(times) == {"answer", "study page", "next question"}
    assert times["answer"]["n"] == 2 and times["answer"]["p50_ms"] == 50.0
