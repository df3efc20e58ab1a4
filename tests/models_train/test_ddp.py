"""Data-parallel training under torchrun, on CPU (gloo): the same code path as several GPUs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from models_train.checkpoint import load_tutor, read_meta
from models_train.trainer import latest_checkpoint

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "models_train" / "data" / "tutoring" / "bridge" / "dialogues.jsonl"


@pytest.mark.slow
def test_pretraining_under_torchrun_with_two_processes(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    tok = tmp_path / "tok.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "models_train.train_tokenizer",
            "--data",
            str(DATA),
            "--vocab-size",
            "512",
            "--out",
            str(tok),
        ],
        check=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "models_train.pretrain",
        "--tokenizer",
        str(tok),
        "--data",
        str(DATA),
        "--out",
        str(tmp_path / "base"),
        "--depth",
        "1",
        "--seq-len",
        "64",
        "--batch-size",
        "4",
        "--steps",
        "6",
        "--eval-every",
        "3",
        "--device",
        "cpu",
    ]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("step     6/6") == 1  # only rank 0 prints
    ck = latest_checkpoint(tmp_path / "base")
    assert ck is not None and ck.name == "step_000006"
    meta = read_meta(ck)
    assert meta["extra"]["world_size"] == 2 and meta["step"] == 6
    model, _, _ = load_tutor(ck)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    rows = [json.loads(line) for line in (tmp_path / "base" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "val_loss" in r] == [3, 6]  # one writer, not two
    # rerunning the same command resumes (nothing left to do) instead of starting over
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resumed from" in again.stdout
