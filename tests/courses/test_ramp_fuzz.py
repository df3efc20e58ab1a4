"""Many malformed ramps: each is either read (and then round-trips and checks without
crashing) or rejected with a RampFileError — never any other exception.

Seeded `random` rather than hypothesis so that a failure names its seed and replays exactly:
    python -m pytest -p no:django tests/courses/test_ramp_fuzz.py -k 'seed_123'
"""

import random

import pytest
import yaml

from courses.ramp_checks import check_ramp
from courses.ramp_files import parse_ramp, ramp_to_files
from courses.specs import RampFileError

from .helpers import good_files

CASES = 240
ALPHABET = list("ab{}[]$\\:-#&*!|>'\"%@`,?\n\t 0123456789é😀½\u202e") + [
    "\x00",
    "---",
    "\n---\n",
    "  ",
    "<!-- level: formal -->",
]
NASTY_TEXT = [
    "10**10**10",
    "__import__('os').system('true')",
    "a.__class__",
    "lambda: 0",
    "{a}",
    "{",
    "}}",
    "(a+)+$",
    "a/0",
    "9**9**9",
    "sqrt(-1)",
    "x" * 20_000,
    "\u202e\u0000",
    "😀" * 50,
    "yes",
    "~",
    "",
    "exp(999)",
    "floor(exp(1000))",
    "log(0)",
    "gcd(1.5, 2)",
    "1e999",
    "-0.0",
    "a < b < c",
]


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(13)
    if kind == 0:
        return rng.randint(-10, 10)
    if kind == 1:
        return 10 ** rng.randint(5, 400)
    if kind == 2:
        return rng.choice([float("nan"), float("inf"), -float("inf"), 1e308, -0.0, 0.5, 5.0000001])
    if kind == 3:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30)))
    if kind == 4:
        return None
    if kind == 5:
        return rng.choice([True, False])
    if kind == 6 and depth < 4:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == 7 and depth < 4:
        return {
            rng.choice(["slug", "type", "x", "match", "range", "1", "value"]): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))
        }
    if kind == 8:
        nested: object = 1
        for _ in range(rng.randint(10, 60)):
            nested = [nested]
        return nested
    if kind == 9:
        return rng.choice(["what-a-fraction-is", "adding-fractions", "fraction-words", "nowhere", "a" * 90])
    if kind == 10:
        return rng.choice(["numeric", "multiple_choice", "short_text", "expression", "ordering", "essay"])
    return rng.choice(NASTY_TEXT)


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def mutate_yaml(rng: random.Random, data):
    """Replace, delete or add one node somewhere in a YAML document."""
    path = rng.choice(list(_paths(data)))
    if not path:
        return random_value(rng) if rng.random() < 0.2 else data
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    action = rng.randrange(4)
    if action == 0 and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == 1 and isinstance(parent, dict):
        parent[rng.choice(["colour", "slug", "answer", "params", "items", "prerequisites"])] = random_value(
            rng
        )
    elif action == 2 and isinstance(parent, list):
        parent.append(random_value(rng) if rng.random() < 0.5 else parent[0])
    else:
        parent[path[-1]] = random_value(rng)
    return data


def mutate_concept(rng: random.Random, text: str) -> str:
    head, front, body = text.split("---\n", 2)
    data = yaml.safe_load(front)
    for _ in range(rng.randint(1, 3)):
        data = mutate_yaml(rng, data)
    try:
        front = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        front = str(data)
    if rng.random() < 0.2:
        body = rng.choice(
            ["", "no marker\n", "<!-- level: formal -->\n$$\n", body * 3, "<!-- level: x -->\n"]
        )
    return f"{head}---\n{front}---\n{body}"


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        choice = rng.randrange(4)
        if choice == 0:
            data = data[:at] + data[at + rng.randint(1, 40) :]
        elif choice == 1:
            data = (
                data[:at]
                + "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8))).encode()
                + data[at:]
            )
        elif choice == 2:
            data = data[:at] + bytes([rng.randrange(256)]) + data[at:]
        else:
            span = data[at : at + rng.randint(1, 200)]
            data = data[:at] + span * rng.randint(2, 5) + data[at:]
    return data


EXPRESSIONS = [
    "a/(b - b)",
    "sqrt(a)",
    "exp(a)",
    "log(a - 5)",
    "floor(exp(999))",
    "a**a**a",
    "min(a, b)/max(a, b)",
    "gcd(a, b) == 1",
    "a > b",
    "a % 0",
    "2**4000",
    "(10**400)**10",
    "sqrt(2)**900",
    "a and b",
    "abs(-a)",
    "1/3",
    "0.1",
    "-a",
    "a == 'x'",
    "log(a, 1)",
    "b // a",
]


def semantic_edit(rng: random.Random, data: dict) -> dict:
    """Plausible values in the right places, so that many results still load and reach the checks."""
    items = [i for i in data.get("items") or [] if isinstance(i, dict)]
    if not items:
        return data
    item = rng.choice(items)
    field = rng.choice(
        ["answer", "constraints", "params", "derived", "tolerance", "difficulty", "prompt", "misconceptions"]
    )
    if field == "answer":
        item["answer"] = rng.choice(EXPRESSIONS)
    elif field == "constraints":
        item["constraints"] = [rng.choice(EXPRESSIONS) for _ in range(rng.randint(1, 3))]
    elif field == "params":
        lo = rng.choice([-(10**9), -5, 0, 1])
        item["params"] = {
            "a": {"range": [lo, lo + rng.choice([0, 1, 10, 10**9])]},
            "b": {"choices": rng.sample([1, 2, 0.5, "x", -3, 10**9], 3)},
        }
    elif field == "derived":
        item["derived"] = {"q": rng.choice(EXPRESSIONS)}
    elif field == "tolerance":
        item["tolerance"] = rng.choice([0, 1e-300, 1e12, 0.5])
    elif field == "difficulty":
        item["difficulty"] = rng.choice([-5, 5, 4.999])
    elif field == "prompt":
        item["prompt"] = rng.choice(["{a} {b}", "{{a}}", "$\\frac{{{a}}}{{2}}$", "😀 {a}"])
    else:
        item["misconceptions"] = [
            {
                "slug": "m",
                "diagnosis": "d {a}",
                "match": {rng.choice(["value", "pattern", "answer"]): rng.choice(EXPRESSIONS)},
            }
        ]
    return data


def malformed_ramp(seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    files = good_files()
    for _ in range(rng.randint(1, 3)):
        how = rng.randrange(7)
        concepts = sorted(p for p in files if p.startswith("concepts/"))
        target = rng.choice(concepts)
        if how in (0, 1, 2):
            try:  # a file an earlier step already broke is mutated byte-wise instead
                if how == 0:
                    head, front, body = files[target].decode().split("---\n", 2)
                    front = yaml.safe_dump(semantic_edit(rng, yaml.safe_load(front)), allow_unicode=True)
                    files[target] = f"{head}---\n{front}---\n{body}".encode()
                    continue
                files[target] = mutate_concept(rng, files[target].decode()).encode()
            except (ValueError, yaml.YAMLError, AttributeError, TypeError, IndexError):
                files[target] = mutate_bytes(rng, files[target])
        elif how == 3:
            files[target] = mutate_bytes(rng, files[target])
        elif how == 4:
            try:
                course = yaml.safe_load(files["course.yaml"])
                files["course.yaml"] = yaml.safe_dump(mutate_yaml(rng, course), allow_unicode=True).encode()
            except (ValueError, yaml.YAMLError, AttributeError, TypeError, IndexError):
                files["course.yaml"] = mutate_bytes(rng, files["course.yaml"])
        elif how == 5:
            files["course.yaml"] = mutate_bytes(rng, files["course.yaml"])
        else:
            action = rng.randrange(3)
            if action == 0:
                files.pop(target, None)
            elif action == 1:
                files[f"concepts/{rng.choice(['extra', 'x y', 'UPPER', 'a.b'])}.md"] = files[target]
            else:
                files[target] = yaml.safe_dump(random_value(rng)).encode()
    return files


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed_{s}") for s in range(CASES)])
def test_malformed_ramp_is_read_or_rejected_cleanly(seed):
    files = malformed_ramp(seed)
    try:
        course = parse_ramp(files)
    except RampFileError as e:
        assert e.problems and all(isinstance(line, int) for _, line, _ in e.problems)
        assert str(e)
        return
    # what we accept must round-trip and be checkable
    assert parse_ramp(ramp_to_files(course)) == course
    assert ramp_to_files(parse_ramp(ramp_to_files(course))) == ramp_to_files(course)
    for finding in check_ramp(course, variants=3):
        assert finding.file and finding.message


def test_the_fuzzer_produces_both_outcomes():
    outcomes = set()
    for seed in range(60):
        try:
            parse_ramp(malformed_ramp(seed))
            outcomes.add("read")
        except RampFileError:
            outcomes.add("rejected")
    assert outcomes == {"read", "rejected"}
