"""Convert the third-party tutoring conversations into Ramp's dialogue format.

    python -m models_train.convert_tutoring --src /work/shared/data/tutoring

A developer command, run once: it writes the vendored files under
models_train/data/tutoring/ (with the licences), which is all the rest of the
package ever reads. Output is deterministic: same sources, same bytes.

- bridge (MIT): each conversation ends in a student mistake; the target is the
  expert teacher's reply (`c_r_`), not the original novice one. Whole
  conversations with a moment in the original validation file -> heldout.
- cima (CC BY 2.5): Italian prepositional phrases; the target is one of the
  crowd tutors' replies, preferring a question or hint that does not correct.
- mathdial (CC BY-SA 4.0): whole teacher-student conversations about a word
  problem, written to its own folder with its licence (share-alike).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

from .dialogue import save_dialogues, split_dialogues

OUT = Path(__file__).parent / "data" / "tutoring"
SEED = 0
HELDOUT_FRACTION = 0.1


def _merge(turns: list[tuple[str, str]]) -> list[dict]:
    """Consecutive messages of one role become one turn (people send several short lines)."""
    out: list[dict] = []
    for role, text in turns:
        text = text.strip()
        if not text:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"] += "\n" + text
        else:
            out.append({"role": role, "content": text})
    return out


def convert_bridge(records: list[dict], split: str, seen: set | None = None) -> list[dict]:
    role = {"tutor": "tutor", "student": "learner"}
    out = []
    seen = set() if seen is None else seen
    for r in records:
        ctx = _merge([(role[m["user"]], m["text"]) for m in r["c_h"]])
        reply = "\n".join(m["text"].strip() for m in r["c_r_"] if m["text"].strip())
        if not reply or not ctx or ctx[-1]["role"] != "learner":
            continue
        topic = r["lesson_topic"]
        system = {
            "role": "system",
            "content": f"Lesson: {topic}. The learner has just answered; respond as their tutor.",
        }
        # c_id (conversation_turn) repeats when several annotators labelled one moment.
        did, n = f"bridge-{r['c_id']}", 1
        while did in seen:
            n += 1
            did = f"bridge-{r['c_id']}-{n}"
        seen.add(did)
        out.append(
            {
                "id": did,
                "task": "respond_to_mistake",
                "course": "bridge-math",
                "concept": topic,
                "split": split,
                "messages": [system, *ctx, {"role": "tutor", "content": reply}],
                "meta": {
                    "source": "bridge",
                    "licence": "MIT",
                    "conversation": r["c_id"].split("_")[0],
                    "error_type": r["e"],
                    "strategy": r["z_what"],
                    "intention": r["z_why"],
                    "novice_reply": "\n".join(m["text"] for m in r["c_r"]),
                },
            }
        )
    return out


# CIMA's five tutor action flags, in the dataset's order.
CIMA_ACTIONS = ("question", "hint", "correction", "confirmation", "other")


def convert_cima(dataset: dict) -> list[dict]:
    out = []
    for key, r in dataset["prepDataset"].items():
        convo = r["past_convo"]
        if not convo or not r["tutorResponses"]:
            continue
        # past_convo alternates tutor, learner, ... and ends on the learner's turn.
        ctx = _merge([("tutor" if i % 2 == 0 else "learner", t) for i, t in enumerate(convo)])
        acts = [dict(zip(CIMA_ACTIONS, a)) for a in r["tutorActions"]]
        pick = 0
        for i, a in enumerate(acts[: len(r["tutorResponses"])]):
            if (a["question"] or a["hint"]) and not a["correction"]:
                pick = i
                break
        answer = f"{r['prep']} {r['obj']} {r['color']}"
        english = f"{r['engPrep']} {r['engColor']} {r['engObj']}"
        system = {
            "role": "system",
            "content": f'Teach the Italian for "{english}". Answer: fill in the blank in Italian.',
        }
        if ctx[-1]["role"] != "learner":
            continue
        out.append(
            {
                "id": f"cima-{key}",
                "task": "respond_to_mistake" if "True" not in r["studentActions"][-1:] else "hint",
                "course": "cima-italian",
                "concept": r["prep"],
                "split": "train",
                "messages": [system, *ctx, {"role": "tutor", "content": r["tutorResponses"][pick].strip()}],
                "meta": {
                    "source": "cima",
                    "licence": "CC BY 2.5",
                    "answer": answer,
                    "probe_terms": [r["prep"], r["obj"], r["color"]],
                    "tutor_actions": [k for k, v in acts[pick].items() if v] if pick < len(acts) else [],
                },
            }
        )
    return out


_MOVE = re.compile(r"^(Teacher|Student):\s*(?:\((\w+)\))?\s*(.*)$", re.S)


def convert_mathdial(records: list[dict]) -> list[dict]:
    out, seen = [], set()
    for r in records:
        turns, moves = [], []
        for chunk in r["conversation"].split("|EOM|"):
            m = _MOVE.match(chunk.strip())
            if not m:
                continue
            who, move, text = m.groups()
            turns.append(("tutor" if who == "Teacher" else "learner", text))
            if who == "Teacher":
                moves.append(move or "")
        msgs = _merge(turns)
        if not any(m["role"] == "tutor" for m in msgs):
            continue
        system = {
            "role": "system",
            "content": f"Problem: {r['question'].strip()}\n\nThe learner's solution:\n"
            f"{r['student_incorrect_solution'].strip()}",
        }
        msgs = [system, *msgs]
        # Evaluate the first reply to the learner's explanation: the moment a tutor is
        # most tempted to just state the right answer.
        first_learner = next((i for i, m in enumerate(msgs) if m["role"] == "learner"), None)
        turn = next(
            (
                i
                for i, m in enumerate(msgs)
                if m["role"] == "tutor" and first_learner is not None and i > first_learner
            ),
            None,
        )
        did = f"mathdial-{r['qid']}"
        while did in seen:
            did += "b"
        seen.add(did)
        meta = {
            "source": "mathdial",
            "licence": "CC BY-SA 4.0",
            "answer": r["ground_truth"].strip().splitlines()[-1].strip(),
            "misconception": r["teacher_described_confusion"],
            "tutor_moves": moves,
        }
        if turn is not None:
            meta["eval_turn"] = turn
        out.append(
            {
                "id": did,
                "task": "respond_to_mistake",
                "course": "mathdial",
                "concept": "word-problems",
                "split": "train",
                "messages": msgs,
                "meta": meta,
            }
        )
    return out


def _assign_splits(dialogues: list[dict]) -> list[dict]:
    _, held = split_dialogues(dialogues, heldout_fraction=HELDOUT_FRACTION, seed=SEED)
    held_ids = {d["id"] for d in held}
    for d in dialogues:
        d["split"] = "heldout" if d["id"] in held_ids else "train"
    return dialogues


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--src", default="/work/shared/data/tutoring", help="folder with bridge/, cima/, mathdial/"
    )
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    src, out = Path(args.src), Path(args.out)
    seen: set = set()
    bridge = convert_bridge(
        json.loads((src / "bridge/train.json").read_text()), "train", seen
    ) + convert_bridge(json.loads((src / "bridge/validation.json").read_text()), "heldout", seen)
    # bridge's train and validation files share conversations (different moments of one
    # lesson): hold out every moment of a conversation that has one in validation.
    held_conv = {d["meta"]["conversation"] for d in bridge if d["split"] == "heldout"}
    for d in bridge:
        d["split"] = "heldout" if d["meta"]["conversation"] in held_conv else "train"
    cima = _assign_splits(convert_cima(json.loads((src / "cima/dataset.json").read_text())))
    mathdial = _assign_splits(
        convert_mathdial(
            [
                json.loads(line)
                for line in (src / "mathdial/test.jsonl").read_text().splitlines()
                if line.strip()
            ]
        )
    )
    save_dialogues(bridge, out / "bridge" / "dialogues.jsonl")
    shutil.copyfile(src / "bridge/LICENSE", out / "bridge" / "LICENSE")
    save_dialogues(cima, out / "cima" / "dialogues.jsonl")
    save_dialogues(mathdial, out / "mathdial" / "dialogues.jsonl")
    for name, ds in (("bridge", bridge), ("cima", cima), ("mathdial", mathdial)):
        n_held = sum(d["split"] == "heldout" for d in ds)
        print(f"{name}: {len(ds)} dialogues ({n_held} held out)")


if __name__ == "__main__":
    main()
