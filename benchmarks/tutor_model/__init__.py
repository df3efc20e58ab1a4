"""Speed benchmarks of the tutor model: decoding (``bench_infer``), training steps
(``bench_train``) and the tokenizer (``bench_tokenizer``). Plain PyTorch, no Django: they
run on a GPU box as on a laptop."""
