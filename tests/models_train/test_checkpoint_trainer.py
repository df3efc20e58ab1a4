import json
import shutil

import pytest
import torch

from models_train.checkpoint import CheckpointError, load_model, load_optimizer, load_tutor, save_checkpoint
from models_train.common import Dist
from models_train.data import DialogueBatches
from models_train.gpt import GPT, GPTConfig
from models_train.trainer import TrainConfig, train

from .conftest import dialogue, random_gpt


def _trained_opt(model):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, 400, (2, 8))
    model(x, x).backward()
    opt.step()
    return opt


def test_round_trip(tok, tmp_path):
    model = random_gpt(vocab=tok.vocab_size)
    opt = _trained_opt(model)
    save_checkpoint(
        tmp_path / "c",
        model,
        tokenizer_id=tok.id,
        tokenizer=tok,
        step=7,
        optimizer=opt,
        metrics={"val_loss": 1.5},
    )
    again, tok2, meta = load_tutor(tmp_path / "c")
    assert meta["step"] == 7 and meta["metrics"]["val_loss"] == 1.5 and tok2.id == tok.id
    for (k, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), k
    opt2 = torch.optim.AdamW(again.parameters(), lr=1e-3)
    load_optimizer(tmp_path / "c", opt2)
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert all(torch.equal(s1[i]["exp_avg_sq"], s2[i]["exp_avg_sq"]) for i in s1)
    assert not list(tmp_path.glob("*.pt")) and not list(tmp_path.glob("**/*.pkl"))


def test_corrupted_or_mismatched_checkpoint_is_refused(tok, tmp_path):
    model = random_gpt(vocab=tok.vocab_size)
    save_checkpoint(tmp_path / "c", model, tokenizer_id=tok.id, tokenizer=tok, step=1)
    with pytest.raises(CheckpointError, match="tokenizer"):
        load_model(tmp_path / "c", tokenizer_id="0123456789abcdef")
    other = GPTConfig(**{**model.config.to_dict(), "n_layer": 3})
    with pytest.raises(CheckpointError, match="differs"):
        load_model(tmp_path / "c", config=other)
    with pytest.raises(CheckpointError, match="without optimizer"):
        load_optimizer(tmp_path / "c", torch.optim.AdamW(model.parameters()))
    w = tmp_path / "c" / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[-5] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match the hash"):
        load_model(tmp_path / "c")
    # weights that do not fit the config, even with a consistent hash
    save_checkpoint(tmp_path / "d", model, tokenizer_id=tok.id, step=1)
    meta = json.loads((tmp_path / "d" / "meta.json").read_text())
    meta["config"]["n_embd"] = 32
    (tmp_path / "d" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_model(tmp_path / "d")
    (tmp_path / "d" / "meta.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupted"):
        load_model(tmp_path / "d")


def _tiny_run(tok, run_dir, steps, ckpt_every=0, optimizer="adamw"):
    torch.manual_seed(0)
    cfg = GPTConfig(sequence_len=64, vocab_size=tok.vocab_size, n_layer=1, n_embd=32, n_head=2, n_kv_head=1)
    model = GPT(cfg).init_weights(0)
    ds = [dialogue(did=f"d{i}") for i in range(4)]
    for i, d in enumerate(ds):
        d["messages"][2]["content"] += f" ({i})"
    batches = DialogueBatches(tok, ds, batch_size=2, seq_len=64, seed=0)
    tc = TrainConfig(
        steps=steps,
        batch_size=2,
        grad_accum=2,
        warmup_steps=2,
        eval_every=0,
        ckpt_every=ckpt_every,
        log_every=1,
        lr=1e-2,
        optimizer=optimizer,
    )
    train(model, batches, batches, tc, run_dir, d=Dist(), tokenizer=tok)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}, model


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
def test_resume_follows_the_same_loss_curve(tok, tmp_path, optimizer):
    full, m_full = _tiny_run(tok, tmp_path / "a", steps=6, optimizer=optimizer)
    # a run killed after its step-3 checkpoint: drop what came later, run the same command again
    _tiny_run(tok, tmp_path / "b", steps=6, ckpt_every=3, optimizer=optimizer)
    shutil.rmtree(tmp_path / "b" / "ckpt" / "step_000006")
    (tmp_path / "b" / "metrics.jsonl").unlink()
    resumed, m_res = _tiny_run(tok, tmp_path / "b", steps=6, optimizer=optimizer)
    assert set(resumed) == {4, 5, 6}
    for s in (4, 5, 6):
        assert resumed[s] == pytest.approx(full[s], abs=1e-6)
    for a, b in zip(m_full.parameters(), m_res.parameters()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


def test_seeded_training_is_deterministic(tok, tmp_path):
    a, _ = _tiny_run(tok, tmp_path / "a", steps=3)
    b, _ = _tiny_run(tok, tmp_path / "b", steps=3)
    assert a == b
