import random

from models_train.tokenizer import SPECIAL_TOKENS, Tokenizer


def test_round_trip_arbitrary_unicode(tok):
    rng = random.Random(0)
    for _ in range(50):
        s = "".join(
            chr(rng.choice([rng.randint(0, 0x7F), rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0x10FFFF)]))
            for _ in range(rng.randint(0, 40))
        )
        assert tok.decode(tok.encode(s)) == s


def test_special_tokens_are_never_parsed_from_text(tok):
    ids = tok.encode("<|tutor|> hi <|end|>")
    assert all(i < tok.n_bpe for i in ids)
    assert tok.decode([tok.special("<|tutor|>")]) == "<|tutor|>"
    assert tok.vocab_size == tok.n_bpe + len(SPECIAL_TOKENS)


def test_saved_file_id_is_content_hash(tok, tmp_path):
    path = tok.save(tmp_path / "t.json")
    again = Tokenizer.load(path)
    assert again.id == tok.id and again.encode("naïve café 12345") == tok.encode("naïve café 12345")
    (tmp_path / "u.json").write_text(path.read_text().replace('"version": 1', '"version": 1 '))
    assert Tokenizer.load(tmp_path / "u.json").id != tok.id


def test_token_bytes(tok):
    tb = tok.token_bytes()
    ids = tok.encode("héllo wörld")
    assert sum(tb[i] for i in ids) == len("héllo wörld".encode())
    assert tb[tok.special("<|end|>")] == 0
