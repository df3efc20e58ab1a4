"""The calculator tool: chat format, loss mask, the engine's forced tool output, and
practice questions written inside their format (models_train.structured_gen)."""

import torch
from torch import nn

from models_train.dialogue import encode_content, render
from models_train.engine import Calculator, Engine
from models_train.gpt import GPTConfig
from models_train.scoring import parse_practice_question
from models_train.structured_gen import TemplateSchema, practice_text, score_texts, spread, write_practice

from .conftest import random_gpt

CALC_TURN = (
    'ITEM: {"item": "fractions/times", "params": {"k": 4, "a": 4, "b": 5}}\n<|question|> What is 4 × 4/5? '
    "<|answer|> <|calc|>4*4/5<|calc_end|><|result|>16/5<|result_end|> 16/5"
)


def practice_dialogue(content=CALC_TURN):
    return {
        "id": "p",
        "task": "practice_question",
        "split": "train",
        "meta": {},
        "messages": [
            {"role": "system", "content": "Course: F. Concept: times."},
            {"role": "learner", "content": "A question please, with <|calc|> in it."},
            {"role": "tutor", "content": content},
        ],
    }


def test_tool_markers_are_special_tokens_only_in_the_tutors_practice_turn(tok):
    ids, mask = render(tok, practice_dialogue())
    sp = tok.special_ids
    for name in ("<|question|>", "<|answer|>", "<|calc|>", "<|calc_end|>", "<|result|>", "<|result_end|>"):
        assert ids.count(sp[name]) == 1, name
    # the learner's literal "<|calc|>" is text, never the control token
    learner = tok.decode(ids[: ids.index(sp["<|tutor|>"])])
    assert "with <|calc|> in it" in learner and ids.index(sp["<|calc|>"]) > ids.index(sp["<|tutor|>"])
    # the tool's output is not a training target; the call and the final answer are
    r, r_end = ids.index(sp["<|result|>"]), ids.index(sp["<|result_end|>"])
    assert all(m == 0 for m in mask[r : r_end + 1])
    assert mask[ids.index(sp["<|calc|>"])] == 1 and mask[ids.index(sp["<|calc_end|>"])] == 1
    assert mask[r_end + 1] == 1 and mask[-1] == 1  # " 16/5" and <|end|>


def test_the_stated_answer_is_what_follows_the_tools_result():
    assert parse_practice_question(CALC_TURN) == ("What is 4 × 4/5?", "16/5")
    assert parse_practice_question("ITEM: {}\n<|question|> q <|answer|> <|calc|>1+1<|calc_end|>") is not None
    assert (
        parse_practice_question("<|question|> q <|answer|> <|calc|>1+1<|calc_end|><|result|>2<|result_end|>")
        is None
    )


class Scripted(nn.Module):
    """A stand-in model that writes a fixed script, pausing while the engine forces the
    tool's output (and recording every token it is fed)."""

    def __init__(self, tok, script):
        super().__init__()
        self.config = GPTConfig(
            sequence_len=64, vocab_size=tok.vocab_size, n_layer=1, n_embd=16, n_head=2, n_kv_head=2
        )
        self.w = nn.Parameter(torch.zeros(1))
        self.script, self.k, self.fed, self.waiting = script, 0, [], False
        self.calc_end, self.result_end = tok.special("<|calc_end|>"), tok.special("<|result_end|>")

    def forward(self, ids, cache=None, last_only=False, **kw):
        fed = ids[0].tolist()
        self.fed += fed
        if cache is not None:
            cache.pos += len(fed)
        out = torch.full((1, 1, self.config.vocab_size), -1e9)
        if self.waiting:
            if fed[-1] != self.result_end:
                out[0, 0, 0] = 0.0  # ignored: the engine is forcing the tool's output
                return out
            self.waiting = False
        t = self.script[min(self.k, len(self.script) - 1)]
        self.k += 1
        self.waiting = t == self.calc_end
        out[0, 0, t] = 0.0
        return out


def test_engine_runs_the_calculator_and_feeds_its_result_back(tok):
    sp = tok.special_ids
    call = [sp["<|calc|>"]] + tok.encode("4*4/5") + [sp["<|calc_end|>"]]
    after = tok.encode(" 16/5") + [sp["<|end|>"]]
    seen = []
    model = Scripted(tok, call + after)
    calc = Calculator(tok, lambda e, turn: seen.append((e, turn)) or "16/5")
    out = Engine(model).generate(
        [sp["<|bos|>"]], max_tokens=40, temperature=0.0, stop=[sp["<|end|>"]], calc=calc
    )[0]
    forced = [sp["<|result|>"]] + tok.encode("16/5") + [sp["<|result_end|>"]]
    assert seen == [("4*4/5", "<|bos|>")]  # no tutor turn marker: the whole sequence
    assert out == call + forced + after[:-1]
    assert model.fed[-len(forced) - len(after) + 1 :] == forced + after[:-1]  # the model read the result
    # streaming shows the forced tokens too, and a failing tool reports an error instead of raising
    model2 = Scripted(tok, call + after)
    streamed = list(
        Engine(model2).stream(
            [sp["<|bos|>"]],
            max_tokens=40,
            temperature=0.0,
            stop=[sp["<|end|>"]],
            calc=Calculator(tok, lambda e, turn: 1 / 0),
        )
    )
    text = tok.decode(streamed)
    assert "<|result|>error: division by zero<|result_end|>" in text
    # the tool sees the tutor's turn up to the call: the prompt's part of it and what was written
    seen.clear()
    before = tok.encode("ITEM: x")
    prompt = [sp["<|bos|>"], sp["<|learner|>"]] + tok.encode("hi") + [sp["<|end|>"], sp["<|tutor|>"]] + before
    written = tok.encode(" then")
    Engine(Scripted(tok, written + call + after)).generate(
        prompt, max_tokens=40, temperature=0.0, stop=[sp["<|end|>"]], calc=calc
    )
    assert seen == [("4*4/5", tok.decode(before + written))]


def test_inside_the_format_the_stated_answer_starts_with_the_tools_result(tok):
    sp = tok.special_ids
    call = [sp["<|calc|>"]] + tok.encode("k*a/b") + [sp["<|calc_end|>"]]
    result = [sp["<|result|>"]] + tok.encode("16/5") + [sp["<|result_end|>"]]
    echo = Calculator(tok, lambda e, turn: "16/5", echo=True)
    out = Engine(Scripted(tok, call + [sp["<|end|>"]])).generate(
        [sp["<|bos|>"]], max_tokens=40, temperature=0.0, stop=[sp["<|end|>"]], calc=echo
    )[0]
    assert out == call + result + tok.encode(" 16/5")
    assert parse_practice_question(
        tok.decode([sp["<|question|>"]] + tok.encode(" q ") + [sp["<|answer|>"]] + out)
    ) == ("q", "16/5")
    # an error is shown, never stated as the answer
    failing = Calculator(tok, lambda e, turn: "error: unknown name k", echo=True)
    out = Engine(Scripted(tok, call + [sp["<|end|>"]])).generate(
        [sp["<|bos|>"]], max_tokens=40, temperature=0.0, stop=[sp["<|end|>"]], calc=failing
    )[0]
    assert tok.decode(out).endswith("<|result|>error: unknown name k<|result_end|>")


def test_tools_refuse_batches(tok):
    import pytest

    with pytest.raises(ValueError, match="one sample"):
        Engine(random_gpt()).generate([1, 2], max_tokens=2, num_samples=2, calc=Calculator(tok, str))


def test_score_texts_is_the_log_likelihood_of_the_text(tok):
    model = random_gpt(vocab=tok.vocab_size, seq=64)
    prompt = [tok.special("<|bos|>")] + tok.encode("What is 3 + 4?")
    texts = ["seven", "7", "a longer answer here"]
    got = score_texts(model, tok, prompt, texts, batch=2)
    for text, score in zip(texts, got):
        ids = prompt + tok.encode(text)
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ids[:-1]])).float(), -1)[0]
        want = sum(float(logp[i - 1, ids[i]]) for i in range(len(prompt), len(ids)))
        assert abs(score - want) < 1e-3


def test_spread_keeps_ends_and_order():
    assert spread(range(5), 24) == [0, 1, 2, 3, 4]
    s = spread(range(100), 5)
    assert s == [0, 25, 50, 74, 99] and s == sorted(s)


def test_write_practice_stays_inside_the_schema(tok):
    model = random_gpt(vocab=tok.vocab_size, seq=128)
    prompt = [tok.special("<|bos|>"), tok.special("<|tutor|>")]
    schema = [
        TemplateSchema("fractions/times", (("k", tuple(range(2, 10))), ("a", (1, 2, 3)))),
        TemplateSchema("fractions/name", (("w", ("half", "third")),)),
    ]
    asked = []

    def question_for(ref, params):
        asked.append((ref, dict(params)))
        if ref == "fractions/times" and params["k"] % 2:
            return None  # a "constraint": k even
        return f"Q {ref} {params}"

    for seed in range(3):
        text = write_practice(
            model, tok, prompt, schema, question_for, temperature=0.7, seed=seed, max_answer_tokens=6
        )
        assert text is not None
        ref, params = asked[-1]
        q, _ = text.split("<|answer|>")
        assert text.startswith(
            practice_text(ref, params, question_for(ref, params), "").split("<|answer|>")[0]
        )
        assert (ref, tuple(params)) in {("fractions/times", ("k", "a")), ("fractions/name", ("w",))}
        if ref == "fractions/times":
            assert params["k"] in range(2, 10) and params["a"] in (1, 2, 3) and params["k"] % 2 == 0
        else:
            assert params["w"] in ("half", "third")
    assert write_practice(model, tok, prompt, schema, lambda r, p: None, tries=3) is None
    assert write_practice(model, tok, prompt, [], question_for) is None


def test_a_multiple_choice_answer_is_the_choice_the_model_scores_highest(tok):
    model = random_gpt(vocab=tok.vocab_size, seq=128)
    prompt = [tok.special("<|bos|>"), tok.special("<|tutor|>")]
    schema = [TemplateSchema("fractions/where", (("a", (1, 2, 3)),))]
    choices = ["Between 0 and 1", "Between 1 and 2", "Exactly on 2"]
    text = write_practice(
        model, tok, prompt, schema, lambda r, p: f"Where is {p['a']}/2?", choices_for=lambda r, p: choices
    )
    answer = text.split("<|answer|>")[1].strip()
    assert answer in choices
    ref, params = "fractions/where", {"a": int(text.split('"a": ')[1][0])}
    ids = prompt + encode_content(
        tok,
        "tutor",
        "practice_question",
        practice_text(ref, params, f"Where is {params['a']}/2?", "").rstrip(),
    )
    scores = score_texts(model, tok, ids, [" " + c for c in choices], suffix=[tok.special("<|end|>")])
    assert answer == choices[max(range(3), key=scores.__getitem__)]
