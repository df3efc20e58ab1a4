"""Early stopping: a tiny model that memorises its four training dialogues gets worse on
held-out ones that say something else; the trainer stops, says where and why, and the
model it leaves (and keeps in best/) is the one with the lowest validation loss."""

import json

import pytest
import torch

from models_train.checkpoint import load_model
from models_train.common import Dist
from models_train.data import DialogueBatches
from models_train.gpt import GPT, GPTConfig
from models_train.trainer import StopTraining, TrainConfig, listening, train

from .conftest import dialogue


def _batches(tok, replies, seed=0):
    ds = []
    for i, reply in enumerate(replies):
        d = dialogue(did=f"d{i}")
        d["messages"][2]["content"] = reply
        ds.append(d)
    return DialogueBatches(tok, ds, batch_size=2, seq_len=64, seed=seed)


def _run(tok, run_dir, steps=80, patience=2, ckpt_every=0, on_event=None):
    torch.manual_seed(0)
    cfg = GPTConfig(sequence_len=64, vocab_size=tok.vocab_size, n_layer=1, n_embd=32, n_head=2, n_kv_head=1)
    model = GPT(cfg).init_weights(0)
    train_b = _batches(tok, [f"How did you get the 6 in 2/6? ({i})" for i in range(4)])
    val_b = _batches(tok, ["Il cane è dietro l'albero rosa.", "日本語のテキスト 🙂 naïve café"] * 2, seed=1)
    tc = TrainConfig(
        steps=steps,
        batch_size=2,
        warmup_steps=2,
        eval_every=5,
        eval_batches=2,
        patience=patience,
        ckpt_every=ckpt_every,
        log_every=5,
        lr=2e-2,
        embed_lr=5e-2,
    )
    metrics = train(model, train_b, val_b, tc, run_dir, d=Dist(), tokenizer=tok, on_event=on_event)
    return metrics, model


def _val_curve(run_dir):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["val_loss"] for r in rows if "val_loss" in r}


def test_training_stops_when_validation_stops_improving_and_keeps_the_best_model(tok, tmp_path):
    metrics, model = _run(tok, tmp_path / "run")
    curve = _val_curve(tmp_path / "run")
    best_step = min(curve, key=curve.get)
    assert metrics["stopped_early"] and metrics["best_step"] == best_step
    assert metrics["step"] == best_step + 2 * 5 < 80  # two passes without improvement, then stop
    assert metrics["val_loss"] == pytest.approx(curve[best_step])
    assert metrics["last_eval"]["val_loss"] > metrics["val_loss"]
    assert "did not improve for 2 evaluations" in metrics["stop_reason"]
    best, meta = load_model(tmp_path / "run" / "best")
    assert meta["step"] == best_step
    for a, b in zip(model.state_dict().values(), best.state_dict().values()):
        assert torch.equal(a, b)  # the model left in place is the best one, not the last


def test_without_patience_the_run_goes_to_the_end(tok, tmp_path):
    metrics, _ = _run(tok, tmp_path / "run", steps=30, patience=0)
    assert metrics["step"] == 30 and "stopped_early" not in metrics
    assert not (tmp_path / "run" / "best").exists()


def test_a_run_that_stopped_early_and_is_resumed_does_not_train_again(tok, tmp_path):
    first, _ = _run(tok, tmp_path / "run")
    events = []
    again, model = _run(tok, tmp_path / "run", on_event=events.append)
    assert [e["event"] for e in events] == ["start", "end"] and events[0]["step"] == first["step"]
    assert again["best_step"] == first["best_step"] and again["val_loss"] == pytest.approx(first["val_loss"])


def test_a_resumed_run_stops_where_the_uninterrupted_one_did(tok, tmp_path):
    whole, _ = _run(tok, tmp_path / "whole")

    def killed(event):
        if event["event"] == "step" and event["step"] == 12:
            raise StopTraining("the worker died")

    with pytest.raises(StopTraining):
        _run(tok, tmp_path / "cut", ckpt_every=5, on_event=killed)
    resumed, _ = _run(tok, tmp_path / "cut", ckpt_every=5)  # from its step-10 checkpoint
    assert (resumed["step"], resumed["best_step"]) == (whole["step"], whole["best_step"])
    assert resumed["val_loss"] == pytest.approx(whole["val_loss"], abs=1e-6)


def test_a_listener_follows_the_run_and_can_stop_it(tok, tmp_path):
    seen = []

    def listener(event):
        seen.append(event)
        if event["event"] == "step" and event["step"] == 7:
            raise StopTraining("cancelled")

    with pytest.raises(StopTraining), listening(listener):
        _run(tok, tmp_path / "run", patience=0)
    kinds = [e["event"] for e in seen]
    assert kinds[0] == "start" and kinds.count("step") == 7 and kinds.count("eval") == 1
    step = next(e for e in seen if e["event"] == "step")
    assert step["stage"] == "train" and step["total"] == 80 and step["tokens"] > 0 and step["loss"] > 0
