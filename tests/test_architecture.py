"""The house holds: the import contracts in pyproject.toml (layers, no cycles, a Django-free
torch core) and ruff (lint, import order, formatting) pass on the tree, and each fails on a
tree where one of them is deliberately broken."""

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("benchmarks", "tutor", "learner", "models_train", "courses", "core")
BIN = Path(sys.executable).parent


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return _run([str(BIN / "lint-imports"), "--no-cache"], cwd)


@pytest.fixture
def tree_copy(tmp_path):
    """The Python packages and the project's configuration, copied where they can be broken."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # courses is the bottom app: it may not reach up into the study loop
        ("courses/checkers.py", "import tutor.policy", "Layers"),
        # the study loop must never run research code
        ("tutor/policy.py", "import benchmarks.simulation.learners", "Layers"),
        # learner and the tutor model are siblings: neither imports the other
        ("learner/mastery.py", "import models_train.versions", "Layers"),
        # the torch core runs under torchrun with no Django
        ("models_train/gpt.py", "import django.db", "torch core"),
        # two modules of one package importing each other
        ("learner/review.py", "import learner.knowledge", "No import cycles"),
    ],
)
def test_a_broken_contract_fails(tree_copy, module, line, contract):
    path = tree_copy / module
    path.write_text(path.read_text() + f"\n{line}  # deliberately broken\n")
    result = _lint_imports(tree_copy)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def test_every_tutor_model_module_is_on_one_side_of_the_torch_core_contract():
    """A new module of models_train must be declared either torch core (no Django) or Django
    side in pyproject.toml, so that the contract covers it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["type"] == "forbidden"]
    declared = set(contract["source_modules"]) | set(contract["forbidden_modules"])
    top_level = {f"models_train.{m.name}" for m in pkgutil.iter_modules([str(ROOT / "models_train")])}
    assert top_level - declared == set()


def test_ruff_is_clean():
    lint = _run([str(BIN / "ruff"), "check", "."], ROOT)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = _run([str(BIN / "ruff"), "format", "--check", "."], ROOT)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_ruff_fails_on_unsorted_imports_and_unformatted_code(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "bad.py").write_text("import sys\nimport os\n\nprint(os.sep,sys.argv)\n")
    lint = _run([str(BIN / "ruff"), "check", "."], tmp_path)
    assert lint.returncode != 0 and "I001" in lint.stdout
    formatted = _run([str(BIN / "ruff"), "format", "--check", "."], tmp_path)
    assert formatted.returncode != 0 and "bad.py" in formatted.stdout
