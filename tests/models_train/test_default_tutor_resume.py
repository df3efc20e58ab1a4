"""An interrupted default-tutor run continues from its last checkpoints and ends where the
uninterrupted run ends (what a redelivered training task relies on)."""

import shutil
from io import StringIO

import pytest
import torch
from safetensors.torch import load_file

from courses.ramp_files import read_ramp
from models_train import default_tutor
from models_train.dialogue import save_dialogues
from models_train.factory import build_dialogues

from .test_factory import FIXTURE, _django

TINY = [
    "--vocab-size",
    "300",
    "--depth",
    "1",
    "--seq-len",
    "64",
    "--batch-size",
    "2",
    "--pretrain-steps",
    "2",
    "--sft-steps",
    "4",
    "--ckpt-every",
    "2",
    "--eval-dialogues",
    "2",
    "--max-new-tokens",
    "4",
    "--no-vendored",
    "--threads",
    "1",
]


@pytest.fixture(scope="module")
def dialogues_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("dlg") / "ramps.jsonl"
    save_dialogues(build_dialogues([read_ramp(FIXTURE)], seed=0, per_item=1), path)
    return path


def weights(folder):
    return load_file(str(folder / "model.safetensors"))


@pytest.mark.slow
def test_resume_after_an_interruption_ends_where_the_whole_run_ends(tmp_path, dialogues_file, capsys):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    default_tutor.main(["--out", str(whole), "--dialogues", str(dialogues_file), *TINY])
    default_tutor.main(["--out", str(cut), "--dialogues", str(dialogues_file), *TINY])
    # the worker "died" after SFT step 2: the last checkpoint and the final copy are gone
    shutil.rmtree(cut / "sft" / "ckpt" / "step_000004")
    shutil.rmtree(cut / "tutor")
    tok_before = (cut / "tokenizer.json").read_bytes()
    capsys.readouterr()
    default_tutor.main(["--out", str(cut), "--dialogues", str(dialogues_file), *TINY, "--resume"])
    printed = capsys.readouterr().out
    assert "resuming: keeping" in printed and "resumed from" in printed and "step_000002" in printed
    assert (cut / "tokenizer.json").read_bytes() == tok_before
    a, b = weights(whole / "tutor"), weights(cut / "tutor")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.slow
def test_without_resume_a_new_tokenizer_drops_the_old_checkpoints(tmp_path, dialogues_file):
    out = tmp_path / "run"
    default_tutor.main(["--out", str(out), "--dialogues", str(dialogues_file), *TINY])
    (out / "sft" / "ckpt" / "step_000002" / "stale-marker").write_text("x")
    default_tutor.main(["--out", str(out), "--dialogues", str(dialogues_file), *TINY])
    assert not (out / "sft" / "ckpt" / "step_000002" / "stale-marker").exists()


def test_the_command_refuses_an_existing_run_without_overwrite_or_resume(tmp_path):
    call_command = _django()
    from django.core.management.base import CommandError

    out = tmp_path / "dt"
    (out / "tutor").mkdir(parents=True)
    with pytest.raises(CommandError, match="--overwrite to replace it or --resume to continue it"):
        call_command(
            "train_default_tutor", "--quick", "--out", str(out), stdout=StringIO(), stderr=StringIO()
        )
    with pytest.raises(CommandError, match="exclude each other"):
        call_command(
            "train_default_tutor",
            "--quick",
            "--out",
            str(out),
            "--overwrite",
            "--resume",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert (out / "tutor").is_dir()  # nothing was removed
