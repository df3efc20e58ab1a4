from pathlib import Path

import pytest

from models_train.convert_tutoring import convert_bridge, convert_cima, convert_mathdial
from models_train.dialogue import load_dialogues, render
from models_train.evaluate import score_reply
from models_train.scoring import is_probing, parse_practice_question, reveals_answer

VENDORED = Path(__file__).resolve().parents[2] / "models_train" / "data" / "tutoring"


def test_convert_bridge_uses_expert_reply():
    rec = {
        "c_id": "1_2",
        "lesson_topic": "Area",
        "e": "guess",
        "z_what": "ask_question",
        "z_why": "x",
        "c_h": [
            {"user": "tutor", "text": "What is 4 x 3?"},
            {"user": "student", "text": "7"},
            {"user": "student", "text": "I added"},
        ],
        "c_r": [{"user": "tutor", "text": "No, it is 12."}],
        "c_r_": [{"user": "tutor", "text": "Hm, not quite."}, {"user": "tutor", "text": "What does x mean?"}],
    }
    [d] = convert_bridge([rec], "heldout")
    assert [m["role"] for m in d["messages"]] == ["system", "tutor", "learner", "tutor"]
    assert d["messages"][2]["content"] == "7\nI added"
    assert d["messages"][-1]["content"] == "Hm, not quite.\nWhat does x mean?"
    assert d["split"] == "heldout" and d["meta"]["novice_reply"] == "No, it is 12."


def test_convert_cima_prefers_a_question_that_does_not_correct():
    ds = {
        "prepDataset": {
            "0": {
                "past_convo": ["Fill in the blank.", "il gatto e sotto rosso tavolo?"],
                "prep": "e sotto il",
                "obj": "tavolo",
                "color": "rosso",
                "engPrep": "is under the",
                "engObj": "table",
                "engColor": "red",
                "tutorResponses": ["It is e sotto il tavolo rosso.", "Where does the colour go?"],
                "tutorActions": [[False, False, True, False, False], [True, False, False, False, False]],
                "studentActions": ["False"],
            }
        }
    }
    [d] = convert_cima(ds)
    assert d["messages"][-1]["content"] == "Where does the colour go?"
    assert d["meta"]["answer"] == "e sotto il tavolo rosso" and d["concept"] == "e sotto il"


def test_convert_mathdial_turns_and_eval_point():
    rec = {
        "qid": 5,
        "question": "Q?",
        "ground_truth": "3+7=10\n 10",
        "student_incorrect_solution": "x=4\n 4",
        "teacher_described_confusion": "subtracting",
        "conversation": "Teacher: (generic)Hi, talk me through it|EOM|Student: I subtracted.|EOM|"
        "Teacher: (probing)Why subtract?|EOM|Student: Oh, 10.",
    }
    [d] = convert_mathdial([rec])
    assert [m["role"] for m in d["messages"]] == ["system", "tutor", "learner", "tutor", "learner"]
    assert d["meta"]["answer"] == "10" and d["meta"]["eval_turn"] == 3
    assert d["meta"]["tutor_moves"] == ["generic", "probing"]


def test_vendored_data_is_valid_split_and_licensed(tok):
    for name, licence in (("bridge", "MIT"), ("cima", "CC BY 2.5"), ("mathdial", "CC BY-SA 4.0")):
        ds = load_dialogues([VENDORED / name / "dialogues.jsonl"])
        assert len(ds) > 400
        assert {d["split"] for d in ds} == {"train", "heldout"}
        assert all(d["meta"]["licence"] == licence for d in ds)
        assert len({d["id"] for d in ds}) == len(ds)
        ids, mask = render(tok, ds[0])
        assert sum(mask) > 0
    assert (VENDORED / "mathdial" / "LICENSE").exists() and (VENDORED / "bridge" / "LICENSE").exists()
    assert (VENDORED / "README.md").exists()


def test_scoring():
    assert reveals_answer("So Julia bought 10 spoons.", "10")
    assert not reveals_answer("Julia bought 14 spoons, or 4.5?", "4")
    assert reveals_answer("Il cane è dietro l'albero rosa!", "e dietro l'albero rosa")
    assert is_probing("Why did you subtract the 3 spoons?", answer="10", probe="I subtracted 3 from 12")
    assert not is_probing("Are you sure?", answer="10", probe="I subtracted 3 from 12")
    assert not is_probing("Is it 10 spoons?", answer="10", probe="10 spoons")
    assert parse_practice_question("<|question|> What is 2+2? <|answer|> 4") == ("What is 2+2?", "4")
    assert parse_practice_question("What is 2+2? 4") is None


def test_verify_is_pluggable():
    d = {"task": "practice_question", "messages": [], "meta": {"concept": "sums"}}
    text = "<|question|> 2+2? <|answer|> 4"
    assert score_reply(d, 0, text, None) == {"parses": True}
    seen = []
    ok = score_reply(d, 0, text, lambda meta, t: seen.append((meta, t)) or True)
    assert ok == {"parses": True, "verified": True} and seen == [(d["meta"], text)]


@pytest.mark.slow
def test_entry_points_tiny_run(tmp_path):
    from models_train import evaluate, pretrain, sft, train_tokenizer

    files = [str(VENDORED / "cima" / "dialogues.jsonl")]
    tok = str(tmp_path / "tok.json")
    train_tokenizer.main(["--data", *files, "--vocab-size", "600", "--out", tok])
    pretrain.main(
        [
            "--tokenizer",
            tok,
            "--data",
            *files,
            "--out",
            str(tmp_path / "b"),
            "--depth",
            "1",
            "--seq-len",
            "64",
            "--batch-size",
            "4",
            "--steps",
            "4",
            "--eval-batches",
            "1",
        ]
    )
    sft.main(
        [
            "--init",
            str(tmp_path / "b/ckpt/step_000004"),
            "--dialogues",
            *files,
            "--out",
            str(tmp_path / "s"),
            "--seq-len",
            "128",
            "--batch-size",
            "2",
            "--steps",
            "3",
            "--eval-batches",
            "1",
        ]
    )
    r = evaluate.main(
        [
            "--ckpt",
            str(tmp_path / "s/ckpt/step_000003"),
            "--dialogues",
            *files,
            "--max-dialogues",
            "3",
            "--max-new-tokens",
            "4",
        ]
    )
    assert r["generation"]["all"]["n"] == 3
