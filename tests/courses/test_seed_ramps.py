"""The seed ramps shipped in ramps/ are valid, clean and loaded by the demo data."""

from pathlib import Path

import pytest

from courses.ramp_checks import check_ramp
from courses.ramp_files import read_ramp

RAMPS = sorted(
    p for p in (Path(__file__).resolve().parents[2] / "ramps").iterdir() if (p / "course.yaml").exists()
)


def test_both_seed_ramps_are_there():
    assert {p.name for p in RAMPS} == {"fractions-to-linear-equations", "from-lookup-table-to-gpt"}


@pytest.mark.slow
@pytest.mark.parametrize("ramp", RAMPS, ids=lambda p: p.name)
def test_seed_ramp_passes_every_check(ramp):
    spec = read_ramp(ramp)
    assert check_ramp(spec) == []


@pytest.mark.parametrize(
    ("ramp", "concepts", "items_per_concept"),
    [("fractions-to-linear-equations", 30, 5), ("from-lookup-table-to-gpt", 20, 3)],
)
def test_seed_ramp_size(ramp, concepts, items_per_concept):
    spec = read_ramp(next(p for p in RAMPS if p.name == ramp))
    assert len(spec.concepts) >= concepts
    assert all(len(c.items) >= items_per_concept for c in spec.concepts)
    templates = sum(i.is_template for c in spec.concepts for i in c.items)
    assert (
        templates > 0.5 * sum(len(c.items) for c in spec.concepts) or ramp != "fractions-to-linear-equations"
    )
    assert all(c.material for c in spec.concepts)
