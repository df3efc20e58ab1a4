import json

import numpy as np
import pytest

from models_train.data import DialogueBatches, TokenBatches, build_shards, iter_texts
from models_train.dialogue import DialogueError, render, split_dialogues, validate

from .conftest import dialogue


def test_render_masks_everything_but_tutor_turns(tok):
    d = dialogue()
    ids, mask = render(tok, d)
    assert len(ids) == len(mask)
    learned = [i for i, m in zip(ids, mask) if m]
    assert tok.decode(learned) == "How did you get the 6 in 2/6?<|end|>"
    # the role markers themselves are context, never targets
    assert all(
        m == 0 for i, m in zip(ids, mask) if i in (tok.special("<|tutor|>"), tok.special("<|learner|>"))
    )


def test_sft_batches_ignore_non_tutor_targets(tok):
    d = dialogue()
    x, y = DialogueBatches(tok, [d], batch_size=2, seq_len=256).get(0)
    ids, mask = render(tok, d)
    n = len(ids) - 1
    assert x[0, :n].tolist() == ids[:-1]
    expect = [t if m else -1 for t, m in zip(ids[1:], mask[1:])]
    assert y[0, :n].tolist() == expect
    assert (y[0, n:] == -1).all()


def test_render_prompt_and_practice_question_markers(tok):
    d = dialogue(task="practice_question")
    d["messages"][2]["content"] = "<|question|> What is 2+2? <|answer|> 4"
    d["messages"][1]["content"] = "text with <|question|> typed by a learner"
    ids, mask = render(tok, d)
    assert ids.count(tok.special("<|question|>")) == 1 and ids.count(tok.special("<|answer|>")) == 1
    prompt, _ = render(tok, d, upto=2)
    assert prompt[-1] == tok.special("<|tutor|>") and prompt == ids[: len(prompt)]


def test_validate_rejects_bad_dialogues():
    with pytest.raises(DialogueError, match="role"):
        validate({**dialogue(), "messages": [{"role": "teacher", "content": "x"}]})
    with pytest.raises(DialogueError, match="no tutor turn"):
        validate({**dialogue(), "messages": [{"role": "learner", "content": "x"}]})
    with pytest.raises(DialogueError, match="task"):
        validate({**dialogue(), "task": "nonsense"})


def test_split_never_leaks_heldout_concepts_or_courses():
    ds = [dialogue(did=f"d{i}", concept=f"c{i % 7}", course=f"k{i % 3}") for i in range(300)]
    train, held = split_dialogues(
        ds, heldout_concepts=["c1", "c4"], heldout_courses=["k2"], heldout_fraction=0.1, seed=3
    )
    assert len(train) + len(held) == 300
    assert not any(d["concept"] in ("c1", "c4") or d["course"] == "k2" for d in train)
    assert all(d in held for d in ds if d["concept"] == "c1")
    # deterministic and independent of input order
    again = split_dialogues(
        list(reversed(ds)),
        heldout_concepts=["c1", "c4"],
        heldout_courses=["k2"],
        heldout_fraction=0.1,
        seed=3,
    )
    assert sorted(d["id"] for d in again[1]) == sorted(d["id"] for d in held)
    other = split_dialogues(ds, heldout_fraction=0.1, seed=4)[1]
    assert {d["id"] for d in other} != {d["id"] for d in split_dialogues(ds, heldout_fraction=0.1, seed=3)[1]}


def test_corpus_readers(tmp_path):
    (tmp_path / "a.txt").write_text("plain text")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"text": "json text"}) + "\n" + json.dumps(dialogue()) + "\n"
    )
    assert list(iter_texts([tmp_path / "a.txt", tmp_path / "b.jsonl"]))[:2] == ["plain text", "json text"]
    (tmp_path / "c.csv").write_text("x")
    with pytest.raises(ValueError, match="unsupported"):
        list(iter_texts([tmp_path / "c.csv"]))
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        (tmp_path / "d.parquet").write_bytes(b"PAR1")
        with pytest.raises(RuntimeError, match="pyarrow"):
            list(iter_texts([tmp_path / "d.parquet"]))


def test_shards_and_stateless_batches(tok, tmp_path):
    from .conftest import CORPUS

    (tmp_path / "c.jsonl").write_text(
        "".join(json.dumps({"text": t + str(i)}) + "\n" for i, t in enumerate(CORPUS))
    )
    man = build_shards(tok, [tmp_path / "c.jsonl"], tmp_path / "s", val_fraction=0.2)
    assert man["tokens"]["train"] > 0 and man["tokens"]["val"] > 0
    arr = np.load(tmp_path / "s" / man["files"]["train"][0])
    assert arr.dtype == np.uint16 and arr[0] == tok.special("<|bos|>")
    b = TokenBatches(tmp_path / "s", "train", 3, 16, seed=1)
    x, y = b.get(5, 1, 0)
    assert x.shape == (3, 16) and (x[:, 1:] == y[:, :-1]).all()
    assert (b.get(5, 1, 0)[0] == x).all() and not (b.get(5, 1, 1)[0] == x).all()
