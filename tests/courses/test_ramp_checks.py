import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from courses.ramp_checks import ADVISED_SPREAD, check_ramp, find_cycles, main, ramp_advice, run, term_pattern
from courses.ramp_files import parse_ramp, write_ramp

from .helpers import GOOD_RAMP, edited, good_files, line_of

ADD = "concepts/adding-fractions.md"
WHAT = "concepts/what-a-fraction-is.md"
WORDS = "concepts/fraction-words.md"
EXPAND = "concepts/simplifying-expressions.md"
ROOT = Path(__file__).resolve().parents[2]


def findings_of(files, check=None):
    found = check_ramp(parse_ramp(files), variants=20)
    return [f for f in found if check is None or f.check == check]


def test_the_good_ramp_has_no_findings():
    assert findings_of(good_files()) == []


def test_cycle_is_printed():
    files = edited(WHAT, "prerequisites: []", "prerequisites: [simplifying-expressions]")
    [cycle] = findings_of(files, "cycle")
    assert cycle.severity == "error"
    assert (
        "adding-fractions → what-a-fraction-is → simplifying-expressions → adding-fractions" in cycle.message
    )
    assert cycle.file == ADD and cycle.line == line_of(files, ADD, "prerequisites:")


def test_self_prerequisite_is_a_cycle():
    files = edited(WORDS, "prerequisites: [what-a-fraction-is]", "prerequisites: [fraction-words]")
    [cycle] = findings_of(files, "cycle")
    assert "fraction-words → fraction-words" in cycle.message


def test_find_cycles_on_a_long_chain_is_fine():
    course = parse_ramp(good_files())
    assert find_cycles(course) == []


def test_unknown_prerequisite():
    files = edited(ADD, "prerequisites: [what-a-fraction-is]", "prerequisites: [what-a-fraction-is, nowhere]")
    [f] = findings_of(files, "unknown-prerequisite")
    assert "nowhere" in f.message and f.line == line_of(files, ADD, "prerequisites:")


def test_course_order_must_list_prerequisites_first():
    files = edited(
        "course.yaml",
        "  - what-a-fraction-is\n  - adding-fractions\n",
        "  - adding-fractions\n  - what-a-fraction-is\n",
    )
    [f] = findings_of(files, "order")
    assert f.file == "course.yaml" and f.line == line_of(files, "course.yaml", "- adding-fractions")


def test_answer_that_fails_its_own_checker():
    files = edited(WHAT, "    answer: 1/2\n", "    answer: sqrt(2)\n    tolerance: 0\n")
    [f] = findings_of(files, "answer-fails")
    assert f.item == "half-as-decimal" and "graded incorrect" in f.message
    assert f.line == line_of(files, WHAT, "answer: sqrt(2)")


def test_expression_answer_a_learner_cannot_type():
    files = edited(EXPAND, 'answer: "a**2 + 2*a*b + b**2"', 'answer: "floor(a) + b"')
    [f] = findings_of(files, "answer-fails")
    assert "unreadable" in f.message


def test_answer_that_cannot_be_computed():
    files = edited(ADD, 'answer: "a/b + c/d"', 'answer: "a/(b - b)"')
    [f] = findings_of(files, "variant")
    assert "division by zero" in f.message and f.item == "add-unlike-template"


def test_unsatisfiable_constraints():
    files = edited(WHAT, 'constraints: ["a < b"]', 'constraints: ["a < b", "a > 11"]')
    [f] = findings_of(files, "unsatisfiable")
    assert f.item == "name-the-denominator" and f.line == line_of(files, WHAT, "constraints:")


def test_misconception_that_matches_the_correct_answer():
    files = edited(WHAT, 'match: {value: "a"}', 'match: {value: "b"}')
    [f] = findings_of(files, "misconception-matches-answer")
    assert "swapped" in f.message and "variant" in f.message
    assert f.line == line_of(files, WHAT, "- slug: swapped")


def test_concept_misconception_that_matches_in_some_variants():
    # (a+c)/(b+d) equals a/b + c/d only when... never for positive values; a/b itself often does
    files = edited(ADD, 'match: {value: "(a+c)/(b+d)"}', 'match: {value: "a/b + c/d + 0*a"}')
    [f] = findings_of(files, "misconception-matches-answer")
    assert "add-across" in f.message and "add a constraint" in f.message


def test_short_text_misconception_matching_an_accepted_answer():
    files = edited(WORDS, "match: {answer: one two}", "match: {answer: A Half}")
    [f] = findings_of(files, "misconception-matches-answer")
    assert "says-one-two" in f.message


def test_concept_without_items():
    text = good_files()[WORDS].decode()
    start, end = text.index("items:"), text.index("---", 4)
    files = {**good_files(), WORDS: (text[:start] + text[end:]).encode()}
    [f] = findings_of(files, "no-items")
    assert f.severity == "warning" and f.concept == "fraction-words"


def test_forward_reference_in_material():
    files = edited(WHAT, "We need a new kind of number.", "We need Common  Denominators.")
    [f] = findings_of(files, "forward-reference")
    assert "common denominator" in f.message and "adding-fractions" in f.message
    assert f.line == line_of(files, WHAT, "We need Common")
    assert f.item is None


def test_forward_reference_in_an_item():
    files = edited(WHAT, "The denominator is below the bar.", "Could you expand it?")
    [f] = findings_of(files, "forward-reference")
    assert f.item == "name-the-denominator" and "'expand'" in f.message
    assert f.line == line_of(files, WHAT, "hints:")


def test_terms_of_ancestors_and_words_containing_a_term_are_fine():
    # simplifying-expressions builds on adding-fractions (common denominator) and,
    # through it, on what-a-fraction-is (numerator); "expanding" is not the term "expand"
    files = edited(EXPAND, "Common denominators", "The numerator and common denominators")
    files = edited(WHAT, "We need a new kind of number.", "Nothing expanding here.", files)
    assert findings_of(files, "forward-reference") == []


def test_term_pattern():
    p = term_pattern("unlike denominators")
    assert p.search("Two UNLIKE\ndenominators here")
    assert not p.search("unlike denominatorsx")
    assert term_pattern("x-intercept").search("the x-intercept.")
    assert term_pattern("expand").search("expands") and not term_pattern("expand").search("expanded")


def test_term_pattern_in_scripts_where_whole_words_do_not_fit():
    # Korean attaches particles and endings to the word; a longer word is another word
    assert term_pattern("받침").search("받침이 있으면 ...") and term_pattern("받침").search("받침을")
    assert not term_pattern("받침").search("물받침")
    # Chinese, Japanese and Thai put no spaces between words
    assert term_pattern("分母").search("这个分数的分母是四")
    assert term_pattern("分母").search("分数の分母は4です")
    assert term_pattern("ตัวส่วน").search("หาตัวส่วนร่วม")
    # Latin and Cyrillic stay whole words; the plural s/es only after a Latin letter
    assert not term_pattern("знаменатель").search("знаменательный")
    assert term_pattern("знаменатель").search("Знаменатель дроби")
    assert not term_pattern("x²").search("x²s")


def test_forward_reference_of_a_korean_term_with_a_particle():
    files = edited(ADD, "common denominator]", "common denominator, 받침]")
    files = edited(WHAT, "We need a new kind of number.", "받침이 있으면 새로운 수가 필요합니다.", files)
    [f] = findings_of(files, "forward-reference")
    assert "'받침'" in f.message and "adding-fractions" in f.message
    assert (f.file, f.line) == (WHAT, line_of(files, WHAT, "받침이 있으면"))


def test_concept_misconception_that_fits_no_item():
    files = edited(
        WORDS,
        "introduces: [one half]\n",
        "introduces: [one half]\nmisconceptions:\n  - slug: m\n    diagnosis: d\n    match: {value: '1/2'}\n",
    )
    [f] = findings_of(files, "misconception-fits-nothing")
    assert f.severity == "warning"


def test_concept_misconception_naming_values_an_item_lacks():
    files = edited(ADD, "probe: Is 1/2 + 1/2 equal to 2/4?", "probe: Is {q} equal to 2/4?")
    found = findings_of(files, "placeholder")
    assert {f.item for f in found} == {"add-unlike-template", "pick-the-common-denominator"}


def test_command_line_exit_status(tmp_path, capsys):
    assert main([str(GOOD_RAMP)]) == 0
    assert "no findings" in capsys.readouterr().out
    files = edited(WHAT, 'match: {value: "a"}', 'match: {value: "b"}')
    write_ramp(parse_ramp(files), tmp_path / "bad")
    assert main([str(tmp_path / "bad"), "--variants", "5"]) == 1
    out = capsys.readouterr().out
    # files named as import_ramp names them: relative to the ramp folder, not as given
    assert f"\n{WHAT}:" in "\n" + out and str(tmp_path) not in out.replace(f"in {tmp_path / 'bad'}:", "")
    assert "misconception-matches-answer" not in out
    assert f"1 finding(s) in {tmp_path / 'bad'}: 1 error(s), 0 warning(s)" in out
    (tmp_path / "bad" / "course.yaml").write_text("format: 7\n")
    buffer = io.StringIO()
    assert run(str(tmp_path / "bad"), buffer) == 2
    assert buffer.getvalue().startswith("course.yaml:1: error: format: unsupported format")


def test_command_line_names_whole_file_problems_with_line_0(tmp_path):
    write_ramp(parse_ramp(good_files()), tmp_path / "big")
    (tmp_path / "big" / ADD).write_bytes(b"x" * (600 * 1024))
    buffer = io.StringIO()
    assert run(str(tmp_path / "big"), buffer) == 2
    assert buffer.getvalue().startswith(f"{ADD}:0: error: larger than 524288 bytes")


def test_runs_as_a_module_without_django(tmp_path):
    shutil.copytree(GOOD_RAMP, tmp_path / "r")
    done = subprocess.run(
        [sys.executable, "-m", "courses.ramp_checks", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    probe = "import sys, courses.ramp_checks; assert not [m for m in sys.modules if m.startswith('django')]"
    assert subprocess.run([sys.executable, "-c", probe], cwd=ROOT, timeout=120).returncode == 0


def _django_ready() -> bool:
    try:
        import django
        from django.conf import settings

        if not settings.configured:
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
            django.setup()
        return "courses" in [a.split(".")[0] for a in settings.INSTALLED_APPS]
    except Exception:  # noqa: BLE001 — the project's settings aren't usable in this run
        return False


def test_manage_py_check_ramp(tmp_path):
    if not _django_ready():
        pytest.skip("Django settings with the courses app are not usable here")
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("check_ramp", str(GOOD_RAMP), stdout=out)
    assert "no findings" in out.getvalue()
    files = edited(WHAT, 'match: {value: "a"}', 'match: {value: "b"}')
    write_ramp(parse_ramp(files), tmp_path / "bad")
    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("check_ramp", str(tmp_path / "bad"), "--variants", "3", stdout=out)
    assert info.value.returncode == 1 and "swapped" in out.getvalue()


def advice_of(files):
    return {a.concept: a for a in ramp_advice(parse_ramp(files))}


def test_questions_all_about_equally_hard_get_advice_not_a_finding():
    files = good_files()
    advice = advice_of(files)
    # every concept of the tiny fixture rates its questions within 1.5 logits of each other
    assert set(advice) == {
        "what-a-fraction-is",
        "fraction-words",
        "adding-fractions",
        "simplifying-expressions",
    }
    a = advice["adding-fractions"]
    assert (a.severity, a.check, a.file) == ("advice", "narrow-difficulty", ADD)
    assert a.line == line_of(files, ADD, "difficulty:")
    assert "its 3 questions are rated -0.5 to +0.3 (a spread of 0.8 logits)" in a.message
    assert findings_of(files) == []  # advice never counts as a finding


def test_a_concept_with_easier_and_harder_questions_gets_no_advice():
    files = edited(ADD, "difficulty: -0.5", "difficulty: -1.5")
    files = edited(ADD, "difficulty: 0.3", "difficulty: 1.0", files)
    assert 1.0 - (-1.5) >= ADVISED_SPREAD
    assert "adding-fractions" not in advice_of(files)
    assert "fraction-words" in advice_of(files)


def test_the_command_line_prints_advice_and_still_exits_clean():
    out = io.StringIO()
    assert run(str(GOOD_RAMP), out, variants=3) == 0
    text = out.getvalue()
    assert "advice: [simplifying-expressions] its 2 questions are rated +1.0 to +1.5" in text
    assert (
        text.strip().splitlines()[-1]
        == "tiny-fractions: 4 concepts, no findings; 4 piece(s) of advice, which block nothing"
    )
