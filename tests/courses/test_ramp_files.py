import io
import os
import zipfile

import pytest

from courses.ramp_files import (
    parse_ramp,
    ramp_to_files,
    ramp_to_zip,
    read_ramp,
    read_ramp_zip,
    write_ramp,
)
from courses.specs import RampFileError

from .helpers import GOOD_RAMP, edited, good_files, line_of

ADD = "concepts/adding-fractions.md"
WHAT = "concepts/what-a-fraction-is.md"


def test_reads_the_fixture():
    course = read_ramp(GOOD_RAMP)
    assert course.slug == "tiny-fractions" and course.version == 3
    assert [c.slug for c in course.concepts][:2] == ["what-a-fraction-is", "adding-fractions"]
    adding = course.concept("adding-fractions")
    assert adding.prerequisites == ("what-a-fraction-is",)
    assert adding.introduces == ("unlike denominators", "common denominator")
    assert [lv.name for lv in adding.material] == ["intuition", "formal"]
    template = adding.item("add-unlike-template")
    assert template.is_template and template.derived == (("den", "lcm(b, d)"),)
    assert template.params[0].lo == 1 and template.params[0].hi == 9
    assert adding.misconceptions[0].match.value == "(a+c)/(b+d)"
    cake = course.concept("what-a-fraction-is").item("cake-length")
    assert cake.answer == "7.5" and cake.tolerance == "0.01" and cake.units == ("cm", "centimetres")
    words = course.concept("fraction-words").item("name-one-half")
    assert words.answers == ("one half", "a half") and words.answer is None


def test_source_lines_are_kept():
    course = read_ramp(GOOD_RAMP)
    files = good_files()
    adding = course.concept("adding-fractions")
    item = adding.item("add-unlike-template")
    assert item.line == line_of(files, ADD, "- slug: add-unlike-template")
    assert item.line_of("answer") == line_of(files, ADD, 'answer: "a/b + c/d"')
    assert adding.misconceptions[0].line == line_of(files, ADD, "- slug: add-across")
    assert adding.material[1].line == line_of(files, ADD, "<!-- level: formal -->")
    assert adding.material[1].text_line == line_of(files, ADD, r"$$\frac{a}{b}")


def test_export_import_export_is_byte_identical(tmp_path):
    course = read_ramp(GOOD_RAMP)
    write_ramp(course, tmp_path / "one")
    again = read_ramp(tmp_path / "one")
    assert again == course
    write_ramp(again, tmp_path / "two")
    for rel in ramp_to_files(course):
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes()


def test_writing_removes_concepts_no_longer_in_the_course(tmp_path):
    course = read_ramp(GOOD_RAMP)
    (tmp_path / "concepts").mkdir()
    (tmp_path / "concepts" / "old.md").write_text("stale")
    write_ramp(course, tmp_path)
    assert not (tmp_path / "concepts" / "old.md").exists()
    assert read_ramp(tmp_path) == course


def test_unicode_is_fine():
    files = edited(
        ADD, "title: Adding fractions with unlike denominators", "title: Brüche addieren ½ — 分数 😀"
    )
    assert parse_ramp(files).concept("adding-fractions").title == "Brüche addieren ½ — 分数 😀"
    exported = ramp_to_files(parse_ramp(files))
    assert parse_ramp(exported) == parse_ramp(files)


def test_zip_round_trip():
    course = read_ramp(GOOD_RAMP)
    data = ramp_to_zip(course)
    assert data == ramp_to_zip(course)  # deterministic
    assert read_ramp_zip(data) == course  # with the wrapper folder


def _zip(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            if name == symlink:
                info.external_attr = 0o120777 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def test_flat_zip_with_junk_is_read():
    entries = {**good_files(), "__MACOSX/._course.yaml": b"junk", ".DS_Store": b"x", "README.md": b"hi"}
    assert read_ramp_zip(_zip(entries)) == read_ramp(GOOD_RAMP)


@pytest.mark.parametrize(
    "entries, symlink, fragment",
    [
        ({"../evil.md": b"x"}, None, "unsafe path"),
        ({"/etc/passwd": b"x"}, None, "unsafe path"),
        ({"a\\..\\b": b"x"}, None, "unsafe path"),
        ({"course.yaml": b"x"}, "course.yaml", "symlink"),
        ({f"concepts/c{i}.md": b"" for i in range(1300)}, None, "more than"),
        ({"course.yaml": b"a" * (70 * 1024)}, None, "larger than"),
    ],
)
def test_unsafe_zips_are_refused(entries, symlink, fragment):
    with pytest.raises(RampFileError, match=fragment):
        read_ramp_zip(_zip(entries, symlink))


def test_not_a_zip():
    with pytest.raises(RampFileError, match="not a zip"):
        read_ramp_zip(b"PK\x03\x04 definitely not")


def test_zip_bomb_is_cut_off_while_reading():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("concepts/bomb.md", b"0" * (50 * 1024 * 1024))
    with pytest.raises(RampFileError, match="larger than"):
        read_ramp_zip(buffer.getvalue())


def test_symlinks_in_a_folder_are_refused(tmp_path):
    write_ramp(read_ramp(GOOD_RAMP), tmp_path)
    target = tmp_path / "concepts" / "fraction-words.md"
    os.rename(target, tmp_path / "elsewhere.md")
    os.symlink(tmp_path / "elsewhere.md", target)
    with pytest.raises(RampFileError, match="symlink"):
        read_ramp(tmp_path)


# --- every error names the file and the line ----------------------------------------------


def expect_error(files, file, line, fragment):
    with pytest.raises(RampFileError) as info:
        parse_ramp(files)
    error = info.value
    assert (error.file, error.line) == (file, line), str(error)
    assert fragment in error.message, error.message
    assert str(error).startswith(f"{file}:{line}: ")  # line 0: the file as a whole
    return error


def test_missing_course_yaml():
    files = good_files()
    del files["course.yaml"]
    expect_error(files, "course.yaml", 0, "is missing")


@pytest.mark.parametrize(
    "old, new, needle, fragment",
    [
        ("title: Tiny fractions", "title: [a, b]", "title:", "should be text, not a list"),
        ("version: 3", "version: three", "version:", "should be a whole number"),
        ("target_success: 0.85", "target_success: 2", "target_success:", "between"),
        ("target_success: 0.85", "target_success: .nan", "target_success:", "between"),
        ("language: en", "language: en\ncolour: blue", "colour:", "unknown field colour"),
        ("language: en", "language: en\nlanguage: fr", "language: fr", "duplicate key"),
        ("format: 1", "format: 2", "format:", "unsupported format"),
        ("slug: tiny-fractions", "slug: Tiny Fractions", "slug:", "is not a slug"),
        ("title: Tiny fractions", "title: &t Tiny\nsummary2: *t", "summary2", "aliases"),
        ("title: Tiny fractions", "title: !!python/object:os.system x", "title:", "could not determine"),
        # PyYAML notices the unclosed list on the next line, and says so
        ("title: Tiny fractions", "title: [unclosed", "summary:", "YAML"),
    ],
)
def test_course_yaml_errors(old, new, needle, fragment):
    files = edited("course.yaml", old, new)
    expect_error(files, "course.yaml", line_of(files, "course.yaml", needle), fragment)


def test_listed_concept_without_file():
    files = good_files()
    del files["concepts/fraction-words.md"]
    expect_error(files, "course.yaml", line_of(files, "course.yaml", "- fraction-words"), "is missing")


def test_unlisted_concept_file():
    files = edited("course.yaml", "  - fraction-words\n", "")
    expect_error(files, "concepts/fraction-words.md", 1, "is not listed")


def test_invalid_utf8_names_the_line():
    files = good_files()
    files[WHAT] = files[WHAT].replace(b"What a fraction is", b"What a fr\xffction is", 1)
    expect_error(files, WHAT, line_of(good_files(), WHAT, "title: What a fraction is"), "not valid UTF-8")


@pytest.mark.parametrize(
    "old, new, needle, fragment",
    [
        ("difficulty: 0.3", "difficulty: 7", "difficulty: 7", "between -5.0 and 5.0"),
        ("difficulty: 0.3", "difficulty: 1.0e+999", "difficulty: 1.0e+999", "between"),
        ("difficulty: 0.3", "difficulty: 0.3\n    colour: red", "colour: red", "unknown field colour"),
        (
            "type: numeric\n    difficulty: 0.3",
            "type: essay\n    difficulty: 0.3",
            "type: essay",
            "not an item type",
        ),
        ('answer: "a/b + c/d"', 'answer: "a/b +"', 'answer: "a/b +"', "can't read it"),
        ('answer: "a/b + c/d"', 'answer: "a/q"', 'answer: "a/q"', "unknown name q"),
        ('answer: "a/b + c/d"', 'answer: "a.__class__"', "answer:", "attribute access"),
        ('"b != d", ', '"b !=", ', "constraints:", "can't read"),
        ("denominator {den}.", "denominator {dem}.", "hints:", "{dem} names no param"),
        ("Both as {den}ths", "Both as {den}ths {", "solution:", "lone '{'"),
        ("a: {range: [1, 9]}", "a: {range: [9, 1]}", "a: {range: [9, 1]}", "lo <= hi"),
        ("a: {range: [1, 9]}", "a: {range: [1, 9], choices: [1]}", "a: {range", "either range"),
        ("a: {range: [1, 9]}", "a: {range: [1, 99999999999]}", "a: {range", "within"),
        ("a: {range: [1, 9]}", "and: {range: [1, 9]}", "and: {range", "can't be a name"),
        ('answer: "{den}"', 'answer: "{den}!"', 'answer: "{den}!"', "one of the choices"),
        ('match: {choice: "{wrong}"}', 'match: {choice: "{nope}"}', "match: {choice", "one of the choices"),
        ('match: {choice: "{wrong}"}', 'match: {value: "bb"}', 'match: {value: "bb"}', "not value"),
        ('match: {choice: "{wrong}"}', 'match: {guess: "b"}', "match: {guess", "should be one of"),
        (
            "match: {order: [Add the numerators, Find a common denominator, Rewrite both fractions with it]}",
            "match: {order: [Add the numerators]}",
            "match: {order",
            "every choice exactly once",
        ),
        (
            "- slug: steps-to-add",
            "- slug: add-unlike-template",
            "- slug: add-unlike-template#2",
            "a second item",
        ),
        ("slug: forgot-to-scale-numerator", "slug: Forgot", "slug: Forgot", "not a slug"),
        ("  - slug: add-across\n", "  - slug: add-across\n    colour: red\n", "colour: red", "unknown field"),
        ('match: {value: "(a+c)/(b+d)"}', 'match: {pattern: "(a)\\\\1"}', "pattern:", "backreferences"),
        ('match: {value: "(a+c)/(b+d)"}', 'match: {pattern: "(unclosed"}', "pattern:", "regular expression"),
        ("slug: adding-fractions", "slug: adding-fractionz", "slug: adding-fractionz", "file name"),
        (
            "prerequisites: [what-a-fraction-is]",
            "prerequisites: what-a-fraction-is",
            "prerequisites:",
            "should be a list",
        ),
        ("items:\n", "items:\n  - just text\n", "  - just text", "should be a mapping"),
        ("<!-- level: formal -->", "<!-- level: fancy -->", "<!-- level: fancy -->", "unknown level"),
        (
            "<!-- level: formal -->",
            "<!-- level: intuition -->",
            "<!-- level: intuition -->#2",
            "appears twice",
        ),
        ("<!-- level: formal -->", "<!-- level formal -->", "<!-- level formal -->", "malformed"),
        (
            "<!-- level: intuition -->\n",
            "Stray text.\n<!-- level: intuition -->\n",
            "Stray text.",
            "must start with",
        ),
    ],
)
def test_concept_errors(old, new, needle, fragment):
    files = edited(ADD, old, new)
    needle, _, occurrence = needle.partition("#")
    expect_error(files, ADD, line_of(files, ADD, needle, int(occurrence or 1)), fragment)


def test_level_order_is_checked():
    files = edited(WHAT, "<!-- level: intuition -->", "<!-- level: worked-example -->")
    files = edited(WHAT, "<!-- level: worked-example -->\nA bar", "<!-- level: intuition -->\nA bar", files)
    expect_error(files, WHAT, line_of(files, WHAT, "<!-- level: formal -->"), "should come before")


def test_front_matter_must_open_and_close():
    files = good_files()
    files[WHAT] = b"no front matter\n"
    expect_error(files, WHAT, 1, "should start with a '---' line")
    files[WHAT] = b"---\nslug: what-a-fraction-is\n"
    expect_error(files, WHAT, 1, "never closed")


def test_concept_without_material():
    files = good_files()
    text = files[WHAT].decode()
    files[WHAT] = text[: text.index("<!-- level: intuition -->")].encode()
    expect_error(files, WHAT, line_of(files, WHAT, "---", 2) + 1, "no material")


def test_limits():
    many = "items:\n" + "".join(
        f"  - {{slug: i{n}, type: short_text, prompt: p, answer: a}}\n" for n in range(201)
    )
    files = edited(WHAT, "items:\n", many + "  # rest\n")
    files = {**files, WHAT: files[WHAT].decode().replace("  # rest\n  - slug:", "  - slug:").encode()}
    expect_error(files, WHAT, line_of(files, WHAT, "items:"), "more than 200")
    files = edited(ADD, "title: Adding fractions with unlike denominators", "title: " + "x" * 300)
    expect_error(files, ADD, 3, "longer than 200")
    files = good_files()
    files[ADD] = files[ADD] + b"x" * (600 * 1024)
    expect_error(files, ADD, 0, "larger than")


def test_problems_in_several_files_are_reported_together():
    files = edited(ADD, "difficulty: 0.3", "difficulty: 9")
    files = edited(WHAT, "difficulty: -3.0", "difficulty: -9", files)
    with pytest.raises(RampFileError) as info:
        parse_ramp(files)
    assert {p[0] for p in info.value.problems} == {ADD, WHAT}
    assert len(str(info.value).splitlines()) == 2


def test_text_fields_take_scalars_as_typed():
    files = edited("concepts/fraction-words.md", "answer: denominator", "answer: yes")
    item = parse_ramp(files).concept("fraction-words").item("word-for-the-bottom")
    assert item.answers == ("yes",)
    again = parse_ramp(ramp_to_files(parse_ramp(files)))
    assert again.concept("fraction-words").item("word-for-the-bottom").answers == ("yes",)


# --- text a learner can't read as written, or can't type ----------------------------------

NFC, NFD = "caf\u00e9", "cafe\u0301"  # the same word: é as one character, or e + accent
PICK = "pick-the-common-denominator"


def test_choices_that_look_the_same_are_refused_at_the_second():
    files = edited(
        ADD, 'choices: ["{den}", "{wrong}"]', f'choices: ["{{den}}", "{{wrong}}", "{NFC}", "{NFD}"]'
    )
    error = expect_error(files, ADD, line_of(files, ADD, 'choices: ["{den}"'), "looks the same as")
    assert NFD in error.message and NFC in error.message
    files = edited(ADD, "- Add the numerators", "- Add the numerators\n      - Add  the numerators.")
    expect_error(files, ADD, line_of(files, ADD, "- Add  the numerators."), "looks the same as")


def test_an_answer_encoded_unlike_its_choice_says_so():
    files = edited(ADD, 'choices: ["{den}", "{wrong}"]', f'choices: ["{{den}}", "{{wrong}}", "{NFD}"]')
    files = edited(ADD, 'answer: "{den}"', f'answer: "{NFC}"', files)
    expect_error(files, ADD, line_of(files, ADD, f'answer: "{NFC}"'), "encoded differently")


@pytest.mark.parametrize(
    "old, new, needle",
    [
        ("answer: denominator", "answer: deno\u200bminator", "answer: deno"),
        ("answers: [one half, a half]", "answers: [one half, a\u00adhalf]", "answers:"),
        ("match: {answer: one two}", "match: {answer: one\u2060two}", "match: {answer"),
    ],
)
def test_invisible_characters_in_an_answer_key_are_refused(old, new, needle):
    files = edited("concepts/fraction-words.md", old, new)
    line = line_of(files, "concepts/fraction-words.md", needle)
    expect_error(files, "concepts/fraction-words.md", line, "invisible character U+")


def test_an_invisible_character_in_an_answer_doesnt_make_it_unanswerable():
    from courses.checkers import AnswerKey, check_answer

    key = AnswerKey(type="short_text", answer=("deno\u200bminator",))  # stored before the check
    assert check_answer(key, "denominator").correct
    assert check_answer(AnswerKey(type="short_text", answer=("denominator",)), "denomi\u00adnator").correct


@pytest.mark.parametrize(
    "old, new, fragment",
    [
        ("nobody gets", "nobody \u202egets", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("nobody gets", "nobody \u2067gets\u2069", "U+2067 RIGHT-TO-LEFT ISOLATE"),
        ("nobody gets", "nobody \x07gets", "control character U+0007"),
        ("nobody gets", "nobody \x1bgets", "control character U+001B"),
    ],
)
def test_control_characters_and_direction_overrides_in_material_are_refused(old, new, fragment):
    files = edited(WHAT, old, new)
    expect_error(files, WHAT, line_of(files, WHAT, "Share 3 pizzas"), fragment)


def test_a_direction_override_in_a_field_is_refused():
    files = edited(WHAT, "title: What a fraction is", "title: What a \u202efraction is")
    expect_error(files, WHAT, 3, "U+202E")


def test_right_to_left_text_is_fine():
    files = edited(WHAT, "nobody gets", "\u05d7\u05dc\u05e7 \u200fnobody gets")  # Hebrew and a mark
    assert "\u05d7" in parse_ramp(files).concept("what-a-fraction-is").material[0].text


def test_file_size_errors_name_line_0(tmp_path):
    files = good_files()
    files[ADD] = files[ADD] + b"x" * (600 * 1024)
    error = expect_error(files, ADD, 0, "larger than")
    assert str(error) == f"{ADD}:0: larger than 524288 bytes"
    write_ramp(parse_ramp(good_files()), tmp_path)
    (tmp_path / ADD).write_bytes(files[ADD])
    with pytest.raises(RampFileError) as info:
        read_ramp(tmp_path)
    assert str(info.value) == f"{ADD}:0: larger than 524288 bytes"
