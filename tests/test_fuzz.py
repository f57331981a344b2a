"""Arbitrary text reaches the parser and the pipeline: only gradcore's own errors may come out, quickly.

The same targets drive the coverage-guided harness fuzz/fuzz.py (atheris); here hypothesis feeds them
arbitrary Unicode, formula-like text, and the seed corpus.
"""

from __future__ import annotations

import pathlib
import sys
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

FUZZ = pathlib.Path(__file__).resolve().parent.parent / "fuzz"
sys.path.insert(0, str(FUZZ))

from _targets import bytes_to_text, parse_only, pipeline  # noqa: E402

# Characters a formula is made of, so that many draws parse and go on into diff and compile.
_FORMULA_ALPHABET = "xyzθ0123456789.+-*/^() ,eE" + "sincotaqrlgxpbhm"
_formula_like = st.text(alphabet=_FORMULA_ALPHABET, max_size=60)

# A generous bound: parsing a few hundred characters takes microseconds; a second means a blow-up.
_BOUND = timedelta(seconds=1)


@settings(max_examples=400, deadline=_BOUND)
@given(st.text(max_size=300))
def test_arbitrary_text_gives_only_parse_errors(text: str) -> None:
    parse_only(text)


@settings(max_examples=200, deadline=_BOUND)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decoded_give_only_parse_errors(data: bytes) -> None:
    parse_only(bytes_to_text(data))


@settings(max_examples=300, deadline=_BOUND)
@given(_formula_like)
def test_formula_like_text_goes_through_the_pipeline_or_fails_cleanly(text: str) -> None:
    pipeline(text)


def test_the_seed_corpus_goes_through_the_pipeline() -> None:
    seeds = sorted((FUZZ / "corpus").iterdir())
    assert len(seeds) >= 20
    for seed in seeds:
        pipeline(seed.read_text(encoding="utf-8"))


def test_a_finding_is_reported() -> None:
    # The targets must let a non-gradcore exception through, or the fuzzers could find nothing.
    import gradcore as gc
    original = gc.parse
    try:
        gc.parse = lambda text: 1 / 0
        try:
            parse_only("x")
        except ZeroDivisionError:
            pass
        else:
            raise AssertionError("parse_only swallowed a ZeroDivisionError")
    finally:
        gc.parse = original
