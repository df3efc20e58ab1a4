import pytest
import torch

from models_train.gpt import GPT, GPTConfig
from models_train.tokenizer import Tokenizer

torch.set_num_threads(1)

CORPUS = [
    "The tutor asks a question before giving a hint. What is 3 + 4? The learner says 7.",
    "Fractions: one half plus one quarter is three quarters. Why do we need a common denominator?",
    "Il cane è dietro l'albero rosa. Ciao! 日本語のテキスト 🙂 naïve café",
] * 20


@pytest.fixture(scope="session")
def tok():
    return Tokenizer.train(CORPUS, 400)


def random_gpt(vocab=400, n_layer=2, n_embd=64, n_head=4, n_kv_head=4, seq=64, seed=0):
    """A tiny GPT with every weight random (the real init zeroes projections, which
    would make equivalence tests pass trivially)."""
    cfg = GPTConfig(
        sequence_len=seq, vocab_size=vocab, n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_kv_head=n_kv_head
    )
    model = GPT(cfg).init_weights(seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "c_proj" in name or "lm_head" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model.eval()


def dialogue(task="respond_to_mistake", concept="fractions", course="maths", did="d1", **meta):
    return {
        "id": did,
        "task": task,
        "course": course,
        "concept": concept,
        "split": "train",
        "messages": [
            {"role": "system", "content": "Be a tutor."},
            {"role": "learner", "content": "1/2 + 1/4 = 2/6"},
            {"role": "tutor", "content": "How did you get the 6 in 2/6?"},
        ],
        "meta": meta,
    }


def tiny_tutor_checkpoint(folder, texts, *, vocab: int = 600, seq: int = 256, seed: int = 0):
    """A real, self-contained tutor checkpoint (tokenizer, weights, meta) of an untrained model:
    what models_train.serving.TutorModel loads, for tests of the serving path."""
    from models_train.checkpoint import save_checkpoint

    tok = Tokenizer.train(list(texts) * 5 + CORPUS, vocab)
    model = random_gpt(vocab=tok.vocab_size, n_layer=1, n_embd=32, n_head=2, n_kv_head=2, seq=seq, seed=seed)
    save_checkpoint(folder, model, tokenizer_id=tok.id, step=0, tokenizer=tok)
    return folder
