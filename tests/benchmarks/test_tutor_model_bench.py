"""The tutor model's speed benchmarks run (tiny shapes) and print their JSON summary last."""

import json

from benchmarks.tutor_model import bench_infer, bench_tokenizer, bench_train


def test_bench_infer_smoke(capsys):
    bench_infer.main(["--smoke", "--no-hf"])
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["bench"] == "infer" and last["shapes"]["2L-64d"]["ours_tok_s"] > 0


def test_bench_train_smoke(capsys):
    bench_train.main(["--smoke"])
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["bench"] == "train" and last["ours_tok_s"] > 0 and last["nanogpt_tok_s"] > 0
    bench_train.main(["--smoke", "--optimizer", "muon", "--no-baseline"])
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["optimizer"] == "muon" and last["ours_tok_s"] > 0 and "nanogpt_tok_s" not in last


def test_bench_tokenizer_smoke(capsys):
    summary = bench_tokenizer.main(["--max-chars", "60000", "--vocab-sizes", "600", "--repeat", "1"])
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last == json.loads(json.dumps(summary)) and last["benchmark"] == "tokenizer"
    libraries = {r["library"] for r in last["rows"]}
    assert "hf-tokenizers" in libraries
    assert ("rustbpe+tiktoken" in libraries) == (last["skipped"] is None)
    for r in last["rows"]:
        assert r["round_trip"] and r["bytes_per_token"] > 1.0 and r["encode_mb_s"] > 0
