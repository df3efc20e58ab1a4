"""Checkpoints: safetensors for every tensor, one JSON of metadata, never a pickle.

A checkpoint is a folder:
    model.safetensors   weights
    optim.safetensors   optimizer state (optional; needed to resume training)
    meta.json           format version, model config, tokenizer id, step, data,
                        metrics, optimizer hyper-parameters and the sha256 of both
                        tensor files
Loading verifies the hashes, the tensor names and shapes against the config
and (when given) the tokenizer id, and raises CheckpointError saying which.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .gpt import GPT, GPTConfig

FORMAT = "ramp-gpt-checkpoint"
VERSION = 1


class CheckpointError(RuntimeError):
    pass


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def optimizer_to_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer state_dict into flat named tensors + JSON-able hyper-parameters."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"state.{idx}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{idx}.{k}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def optimizer_from_tensors(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], info: dict) -> None:
    state: dict[int, dict] = {}
    for name, t in tensors.items():
        _, idx, k = name.split(".", 2)
        state.setdefault(int(idx), {})[k] = t
    for key, v in info.get("scalars", {}).items():
        idx, k = key.split(".", 1)
        state.setdefault(int(idx), {})[k] = v
    opt.load_state_dict({"state": state, "param_groups": info["param_groups"]})


def save_checkpoint(
    directory: str | Path,
    model: GPT,
    *,
    tokenizer_id: str,
    step: int,
    tokenizer=None,
    optimizer: torch.optim.Optimizer | None = None,
    data: dict | None = None,
    metrics: dict | None = None,
    extra: dict | None = None,
) -> Path:
    """Write atomically: into a temp folder, then rename, so a killed run never leaves half a checkpoint."""
    directory = Path(directory)
    tmp = directory.with_name(directory.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(sd, tmp / "model.safetensors")
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config.to_dict(),
        "tokenizer_id": tokenizer_id,
        "step": step,
        "data": data or {},
        "metrics": metrics or {},
        "extra": extra or {},
        "files": {"model.safetensors": _sha256(tmp / "model.safetensors")},
    }
    if optimizer is not None:
        tensors, info = optimizer_to_tensors(optimizer)
        save_file(tensors, tmp / "optim.safetensors")
        meta["optimizer"] = info
        meta["files"]["optim.safetensors"] = _sha256(tmp / "optim.safetensors")
    if tokenizer is not None:  # a checkpoint carries its tokenizer: the folder alone serves the model
        if tokenizer.id != tokenizer_id:
            raise CheckpointError(
                f"tokenizer {tokenizer.id} given to save a model trained with {tokenizer_id}"
            )
        tokenizer.save(tmp / "tokenizer.json")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    if directory.exists():
        old = directory.with_name(directory.name + ".old")
        if old.exists():
            _rmtree(old)
        os.replace(directory, old)
        os.replace(tmp, directory)
        _rmtree(old)
    else:
        os.replace(tmp, directory)
    return directory


def _rmtree(p: Path):
    for f in p.iterdir():
        f.unlink()
    p.rmdir()


def read_meta(directory: str | Path) -> dict:
    directory = Path(directory)
    path = directory / "meta.json"
    if not path.exists():
        raise CheckpointError(f"{directory}: no meta.json, not a checkpoint")
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: corrupted metadata ({e})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Ramp GPT checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {meta.get('version')}, this code reads {VERSION}")
    return meta


def _load_verified(directory: Path, name: str, meta: dict) -> dict[str, torch.Tensor]:
    path = directory / name
    want = meta["files"].get(name)
    if not path.exists() or want is None:
        raise CheckpointError(f"{path}: missing")
    if _sha256(path) != want:
        raise CheckpointError(f"{path}: content does not match the hash in meta.json (corrupted or replaced)")
    try:
        return load_file(path)
    except Exception as e:  # safetensors raises its own error types for malformed files
        raise CheckpointError(f"{path}: unreadable safetensors file ({e})") from None


def load_model(
    directory: str | Path, *, device="cpu", tokenizer_id: str | None = None, config: GPTConfig | None = None
) -> tuple[GPT, dict]:
    """(model, meta). Refuses a checkpoint whose tokenizer or config differs from the expected one."""
    directory = Path(directory)
    meta = read_meta(directory)
    if tokenizer_id is not None and meta["tokenizer_id"] != tokenizer_id:
        raise CheckpointError(
            f"{directory}: trained with tokenizer {meta['tokenizer_id']}, "
            f"but tokenizer {tokenizer_id} was given"
        )
    try:
        cfg = GPTConfig(**meta["config"])
    except TypeError as e:
        raise CheckpointError(f"{directory}: config not understood ({e})") from None
    if config is not None and config != cfg:
        raise CheckpointError(f"{directory}: config {cfg} differs from the expected {config}")
    sd = _load_verified(directory, "model.safetensors", meta)
    model = GPT(cfg)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in sd.items()}
    if expected != got:
        diff = sorted(set(expected.items()) ^ set(got.items()))[:4]
        raise CheckpointError(f"{directory}: weights do not fit the config (first differences: {diff})")
    model.load_state_dict(sd)
    return model.to(device), meta


def load_optimizer(directory: str | Path, optimizer: torch.optim.Optimizer, meta: dict | None = None) -> None:
    directory = Path(directory)
    meta = meta or read_meta(directory)
    if "optimizer" not in meta:
        raise CheckpointError(f"{directory}: saved without optimizer state, cannot resume training")
    tensors = _load_verified(directory, "optim.safetensors", meta)
    try:
        optimizer_from_tensors(optimizer, tensors, meta["optimizer"])
    except (ValueError, KeyError) as e:
        raise CheckpointError(f"{directory}: optimizer state does not fit this model ({e})") from None


def load_tutor(directory: str | Path, device="cpu"):
    """(model, tokenizer, meta) from a self-contained checkpoint folder."""
    from .tokenizer import Tokenizer

    directory = Path(directory)
    path = directory / "tokenizer.json"
    if not path.exists():
        raise CheckpointError(f"{directory}: no tokenizer.json in the checkpoint")
    try:
        tok = Tokenizer.load(path)
    except ValueError as e:
        raise CheckpointError(str(e)) from None
    model, meta = load_model(directory, device=device, tokenizer_id=tok.id)
    return model, tok, meta
