"""Tests for escalation.scenario.hints: what to write instead, added to expression messages."""

from __future__ import annotations

import pytest

from escalation.scenario.hints import with_hint


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("unknown function 'beta' (functions: abs, clip)", "drawn by a parameter"),
        ("unknown function 'lognormal' (functions: abs)", "my_lognormal: {dist:"),
        ("unexpected name 'if' after '0.1'; is an operator missing?", "where(condition"),
        ("unexpected name 'day' after 'if'; is an operator missing?", "no if/else"),
        ("unknown name 'else' (known names: a, b)", "'else' is not a word"),
        ("unknown name 'type' (known names: a, b)", "types.<name>.overrides"),
        ("unknown name 'trial' (known names: a, b)", "a trial's number"),
    ],
)
def test_hint_replaces_the_first_line(message: str, words: str) -> None:
    hinted = with_hint(message + '\n  at column 1: "x"\n                ^')
    first, _, rest = hinted.partition("\n")
    assert words in first
    assert rest == '  at column 1: "x"\n                ^'  # the caret lines are kept


@pytest.mark.parametrize(
    "message",
    [
        "unknown function 'gamma' (functions: abs)",  # not a distribution of the format
        "unknown name 'forcez'; did you mean 'forces'?",
        "unexpected name 'x' after 'y'; is an operator missing?",
    ],
)
def test_other_messages_are_left_alone(message: str) -> None:
    assert with_hint(message) == message
