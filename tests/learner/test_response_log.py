import io

import pytest

from learner.response_log import (
    Response,
    ResponseLogError,
    group_by_learner,
    read_responses,
    read_sequences,
    write_responses,
)


def _write(tmp_path, text, name="log.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_minimal_and_optional_columns(tmp_path):
    p = _write(tmp_path, "user_id,skill_id,correct\nu1,s1,1\nu2,s1,0\nu1,s2,0\n")
    rows = read_responses(p)
    assert rows[0] == Response("u1", "s1", 1)
    assert [r.correct for r in rows] == [1, 0, 0]
    seqs = read_sequences(p)
    assert list(seqs) == ["u1", "u2"]
    assert [r.skill_id for r in seqs["u1"]] == ["s1", "s2"]

    p2 = _write(
        tmp_path,
        "item_id,user_id,timestamp,skill_id,correct,hints\n"
        "q1,u1,2024-01-01T00:00:00Z,s1,1,0\nq2,u1,1704067260,s1,0,2\n,u1,1704067260.5,s1,1,\n",
        "b.csv",
    )
    rows = read_responses(p2)
    assert rows[0].timestamp == 1704067200.0 and rows[0].item_id == "q1"
    assert rows[1].timestamp == 1704067260.0 and rows[1].hints == 2
    assert rows[2].item_id is None and rows[2].hints == 0


@pytest.mark.parametrize(
    "text,line,fragment",
    [
        ("user,skill_id,correct\nu1,s1,1\n", 1, "missing column(s) user_id"),
        ("user_id,skill_id,correct,extra\nu1,s1,1,x\n", 1, "unknown column"),
        ("", 1, "empty file"),
        ("user_id,skill_id,correct\nu1,s1,1\nu1,s1,2\n", 3, "correct must be 0 or 1"),
        ("user_id,skill_id,correct\nu1,s1,1\n,s1,1\n", 3, "empty user_id"),
        ("user_id,skill_id,correct\nu1, ,1\n", 2, "empty skill_id"),
        ("user_id,skill_id,correct\nu1,s1\n", 2, "expected 3 fields"),
        ("user_id,skill_id,correct,timestamp\nu1,s1,1,yesterday\n", 2, "bad timestamp"),
        ("user_id,skill_id,correct,timestamp\nu1,s1,1,\n", 2, "bad timestamp"),
        ("user_id,skill_id,correct,timestamp\nu1,s1,1,100\nu2,s1,1,50\nu1,s1,0,99\n", 4, "out of time order"),
        ("user_id,skill_id,correct,hints\nu1,s1,1,-1\n", 2, "hints"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path, text, line, fragment):
    p = _write(tmp_path, text)
    with pytest.raises(ResponseLogError) as ei:
        read_responses(p)
    err = ei.value
    assert err.line == line
    assert str(err).startswith(f"{p}:{line}:")
    assert fragment in str(err)


def test_equal_timestamps_are_in_order(tmp_path):
    p = _write(tmp_path, "user_id,skill_id,correct,timestamp\nu1,s1,1,5\nu1,s2,0,5\n")
    assert len(read_responses(p)) == 2


def test_write_then_read_round_trip(tmp_path):
    rows = [
        Response("u1", "s1", 1, 10.0, "i1", 0),
        Response("u1", "s2", 0, 12.5, None, 3),
        Response("u2", "s1", 1, 11.0, "i2", 0),
    ]
    p = tmp_path / "out.csv"
    n = write_responses(p, rows, ["user_id", "skill_id", "correct", "timestamp", "item_id", "hints"])
    assert n == 3
    assert read_responses(p) == rows
    buf = io.StringIO()
    write_responses(buf, [Response("a", "b", 0)])
    assert buf.getvalue() == "user_id,skill_id,correct\na,b,0\n"
    assert group_by_learner(rows)["u1"] == rows[:2]
