"""Evaluate a tutor checkpoint: losses, bits per byte and tutoring behaviour. One JSON report.

    python -m models_train.evaluate --ckpt runs/sft/ckpt/step_000300 \
        --dialogues models_train/data/tutoring/*/dialogues.jsonl --out runs/sft/report.json
    # tiny CPU run (seconds): add --max-dialogues 20 --max-new-tokens 32

Metrics, on the held-out dialogues (split == "heldout"):
- val loss / bits per byte on tutor tokens (and on --text files, if given);
- reveal rate: share of generated replies to `hint` and `respond_to_mistake`
  dialogues whose meta carries an answer that contain that answer (normalised,
  whole words; see scoring.reveals_answer). Lower is better; the aim is ~0;
- probing rate: share of generated replies to `respond_to_mistake` dialogues that
  ask a question, keep the answer back and mention the probe content
  (scoring.is_probing);
- practice questions: share of `practice_question` generations that parse as
  <|question|> ... <|answer|> ..., and, when a `verify(meta, text) -> bool`
  callable is passed (the Django side passes the course checker), the share
  that verify accepts; without it only the parse rate is reported;
- the same reveal/probing rates per source, which for the vendored real
  conversations (bridge, cima, mathdial) is the check that the tutor answers a
  mistake without telling the answer.
The reference rates of the human tutors' own replies are reported beside the
model's, so a number can be read against what people did.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import torch

from .checkpoint import load_tutor
from .data import DialogueBatches, TokenBatches, build_shards
from .dialogue import by_split, eval_turn, load_dialogues, render
from .engine import Engine
from .scoring import is_probing, parse_practice_question, reveals_answer
from .structured_gen import calculator
from .trainer import loss_and_bpb

Verify = Callable[[dict, str], bool]


def _probe_content(d: dict, k: int) -> str:
    meta = d.get("meta", {})
    if meta.get("probe_terms"):
        return " ".join(meta["probe_terms"])
    learner = [m["content"] for m in d["messages"][:k] if m["role"] == "learner"]
    return (learner[-1] if learner else "") + " " + meta.get("misconception", "")


def score_reply(d: dict, k: int, text: str, verify: Verify | None) -> dict:
    """The judgements that apply to one reply (generated, or the human reference)."""
    meta, task = d.get("meta", {}), d["task"]
    out = {}
    answer = meta.get("answer")
    if task in ("hint", "respond_to_mistake") and answer:
        out["reveals"] = reveals_answer(text, answer)
    if task == "respond_to_mistake":
        out["probes"] = is_probing(text, answer=answer, probe=_probe_content(d, k))
    if task == "practice_question":
        out["parses"] = parse_practice_question(text) is not None
        if verify is not None:
            out["verified"] = bool(out["parses"] and verify(meta, text))
    return out


def _rates(rows: list[dict]) -> dict:
    out = {}
    for key, name in (
        ("reveals", "reveal_rate"),
        ("probes", "probing_rate"),
        ("parses", "parse_rate"),
        ("verified", "verified_rate"),
    ):
        vals = [r[key] for r in rows if key in r]
        if vals:
            out[name] = round(sum(vals) / len(vals), 4)
            out[name.replace("_rate", "_n")] = len(vals)
    return out


def evaluate_model(
    model,
    tok,
    dialogues: list[dict],
    *,
    verify: Verify | None = None,
    text_paths=(),
    max_dialogues: int | None = None,
    max_new_tokens: int = 64,
    practice_new_tokens: int = 160,
    temperature: float = 0.0,
    write_practice=None,
    calc=None,
    seed: int = 0,
    batch_size: int = 8,
    samples: int = 5,
    work_dir: str | Path | None = None,
    loss: bool = True,
    keep_outputs: bool = False,
) -> dict:
    """The report as a dict. dialogues should be the held-out ones. Replies are generated with
    up to ``max_new_tokens``; practice questions (ITEM line, question and answer) with up to
    ``practice_new_tokens``, or by ``write_practice(model, tok, dialogue, prompt_ids, seed) ->
    text or None`` when given (constrained generation: `models_train.structured_gen`).
    ``calc(expression, turn) -> text`` is the calculator tool practice questions may call.
    ``loss=False`` skips the dialogue loss (when the same dialogues were scored already);
    ``keep_outputs`` adds every generated text (``report["outputs"]``: id, task, generated)."""
    t0 = time.perf_counter()
    report: dict = {"n_dialogues": len(dialogues)}
    token_bytes = torch.tensor(tok.token_bytes())
    nullctx = __import__("contextlib").nullcontext
    if dialogues and loss:
        seq = 2 * model.config.sequence_len
        report["dialogue_loss"] = loss_and_bpb(
            model, DialogueBatches(tok, dialogues, batch_size, seq).fixed(), token_bytes, nullctx
        )
    if text_paths:
        shard_dir = Path(work_dir or "/tmp") / f"eval_shards_{tok.id}"
        build_shards(tok, text_paths, shard_dir, val_fraction=1.0)
        tb = TokenBatches(shard_dir, "val", batch_size, model.config.sequence_len, seed=seed)
        report["text_loss"] = loss_and_bpb(model, tb.fixed(16), token_bytes, nullctx)

    engine = Engine(model)
    end = tok.special("<|end|>")
    model_rows, human_rows = defaultdict(list), defaultdict(list)
    examples, outputs = [], []
    chosen = [d for d in dialogues if d["task"] in ("hint", "respond_to_mistake", "practice_question")]
    if max_dialogues:  # round-robin over sources so a small budget still sees every source
        by_src = defaultdict(list)
        for d in chosen:
            by_src[d.get("meta", {}).get("source", d.get("course", "?"))].append(d)
        queues = [by_src[k] for k in sorted(by_src)]
        chosen = [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)][
            :max_dialogues
        ]
    for d in chosen:
        k = eval_turn(d)
        prompt, _ = render(tok, d, upto=k)
        budget = practice_new_tokens if d["task"] == "practice_question" else max_new_tokens
        prompt = prompt[-(2 * model.config.sequence_len - budget) :]  # the most recent context if long
        if write_practice is not None and d["task"] == "practice_question":
            text = write_practice(model, tok, d, prompt, seed) or ""
        else:
            tool = calculator(tok, calc) if d["task"] == "practice_question" else None
            ids = engine.generate(
                prompt, max_tokens=budget, temperature=temperature, seed=seed, stop=[end], calc=tool
            )[0]
            text = tok.decode(ids)
        src = d.get("meta", {}).get("source", d.get("course", "?"))
        s = score_reply(d, k, text, verify)
        h = score_reply(d, k, d["messages"][k]["content"], verify)
        for key in ("all", f"task:{d['task']}", f"source:{src}"):
            model_rows[key].append(s)
            human_rows[key].append(h)
        if len(examples) < samples:
            examples.append(
                {
                    "id": d["id"],
                    "task": d["task"],
                    "generated": text,
                    "reference": d["messages"][k]["content"],
                    **s,
                }
            )
        if keep_outputs:
            outputs.append({"id": d["id"], "task": d["task"], "generated": text})
    report["generation"] = {
        key: {"model": _rates(rows), "reference": _rates(human_rows[key]), "n": len(rows)}
        for key, rows in model_rows.items()
    }
    report["examples"] = examples
    if keep_outputs:
        report["outputs"] = outputs
    report["settings"] = {
        "max_new_tokens": max_new_tokens,
        "practice_new_tokens": practice_new_tokens,
        "temperature": temperature,
        "seed": seed,
        "verify": verify is not None,
        "constrained_practice": write_practice is not None,
    }
    report["seconds"] = round(time.perf_counter() - t0, 2)
    return report


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("inputs")
    g.add_argument("--ckpt", required=True, help="checkpoint folder")
    g.add_argument(
        "--dialogues", nargs="*", default=[], help="dialogue JSONL files (their held-out part is used)"
    )
    g.add_argument("--all-splits", action="store_true", help="use every dialogue, not only split == heldout")
    g.add_argument("--text", nargs="*", default=[], help="plain-text corpora for loss / bits per byte")
    g.add_argument("--out", help="report file (default: <ckpt>/report.json)")
    g = ap.add_argument_group("generation")
    g.add_argument("--max-dialogues", type=int, default=None)
    g.add_argument("--max-new-tokens", type=int, default=64)
    g.add_argument("--temperature", type=float, default=0.0, help="0: greedy")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    model, tok, meta = load_tutor(args.ckpt, device=args.device)
    dialogues = load_dialogues(args.dialogues)
    if not args.all_splits:
        dialogues = by_split(dialogues, "heldout")
    report = evaluate_model(
        model,
        tok,
        dialogues,
        text_paths=args.text,
        max_dialogues=args.max_dialogues,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        seed=args.seed,
        work_dir=Path(args.ckpt),
    )
    report = {
        "checkpoint": str(args.ckpt),
        "step": meta["step"],
        "tokenizer_id": meta["tokenizer_id"],
        "config": meta["config"],
        "params": model.num_params(),
        **report,
    }
    out = Path(args.out) if args.out else Path(args.ckpt) / "report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    summary = {
        "report": str(out),
        **{k: report["generation"].get("all", {}).get("model") for k in ["all"]},
        "dialogue_loss": report.get("dialogue_loss"),
    }
    print(json.dumps(summary))
    return report


if __name__ == "__main__":
    main()
