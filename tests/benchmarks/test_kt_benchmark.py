import json
import subprocess
import sys
from pathlib import Path

from benchmarks.kt.benchmark import main, run_kt_benchmark
from learner.response_log import write_responses

from .kt_synthetic import synthetic_log

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"auc", "rmse", "log_loss", "accuracy", "fit_s", "us_per_response", "us_p50", "us_p99"}


def test_benchmark_json_line_and_planted_signal(tmp_path, capsys):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    write_responses(train, synthetic_log(250, 40, seed=1, with_time=True))
    write_responses(test, synthetic_log(120, 40, seed=2, with_time=True, prefix="t"))
    assert main([str(train), str(test)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1])  # ONE JSON line, last
    assert "auc" in out[0] and "ramp" in "\n".join(out[:-1])
    est = summary["estimators"]
    assert set(est) == {"skill_mean", "bkt", "bkt_forget", "elo", "pfa", "ramp", "ramp_gru"}
    for m in est.values():
        assert KEYS <= set(m)
    assert summary["n_test_responses"] == 120 * 40
    # strong and weak learners: Ramp's estimator learns it, the per-skill mean cannot
    assert est["ramp"]["auc"] > est["skill_mean"]["auc"] + 0.1
    assert summary["best_auc"] in est


def test_benchmark_single_file_split_and_unseen_skills(tmp_path):
    log = tmp_path / "log.csv"
    rows = synthetic_log(80, 20, seed=3)
    rows += [r.__class__(r.user_id, "brand-new", r.correct) for r in synthetic_log(10, 5, seed=4, prefix="z")]
    write_responses(log, rows)
    s = run_kt_benchmark(log, None, split=0.25, seed=0, estimators=["skill_mean", "ramp", "bkt"])
    assert s["n_train_learners"] + s["n_test_learners"] == 90
    assert s["n_test_learners"] == 22 or s["n_test_learners"] == 23
    assert set(s["estimators"]) == {"skill_mean", "ramp", "bkt"}
    assert s["split"] == 0.25 and s["seed"] == 0


def test_benchmark_module_runs_without_django(tmp_path):
    log = tmp_path / "log.csv"
    write_responses(log, synthetic_log(40, 15, seed=5))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, benchmarks.kt.benchmark as b; sys.exit(b.main(sys.argv[1:])); ",
            str(log),
            "--split",
            "0.2",
            "--estimators",
            "skill_mean,ramp",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "django" not in proc.stderr.lower()
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(summary["estimators"]) == {"skill_mean", "ramp"}


def test_benchmark_reports_bad_csv(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,skill_id,correct\nu1,s1,7\n")
    import pytest

    with pytest.raises(SystemExit) as ei:
        main([str(bad)])
    assert f"{bad}:2:" in str(ei.value.code)
