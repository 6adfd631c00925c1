"""Range syntax for layers and neurons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from superpose.core.errors import SuperposeError
from superpose.core.ranges import format_range, parse_range


@pytest.mark.parametrize("text,expected", [
    ("0-3", [0, 1, 2, 3]), ("3,1,2", [1, 2, 3]), ("0-2, 5 ,4-4", [0, 1, 2, 4, 5]),
    ("2-3,3", [2, 3]), (None, list(range(6))), ("all", list(range(6))), ("5", [5]),
])
def test_parse(text, expected):
    assert parse_range(text, 6, "layer") == expected


@pytest.mark.parametrize("text,message", [
    ("0-6", "layer 6 is out of range: valid layers are 0-5"),
    ("9", "layer 9 is out of range: valid layers are 0-5"),
    ("3-1", "the start is after the end"),
    ("a-b", "bad layer range 'a-b'"), ("1,,2", "bad layer range"), ("-1", "bad layer range"),
    ("", "bad layer range"),
])
def test_errors_name_the_valid_range(text, message):
    with pytest.raises(SuperposeError, match=message) as info:
        parse_range(text, 6, "layer")
    assert "0-5" in str(info.value)


@given(st.sets(st.integers(0, 200)))
def test_format_round_trips(indices):
    ordered = sorted(indices)
    text = format_range(ordered)
    assert (parse_range(text, 201) if ordered else []) == ordered
