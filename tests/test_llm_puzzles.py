"""Every puzzle rule does exactly what its explanation says, on hand-made text."""

import re

import numpy as np
import pytest

from superpose.explainer.puzzles import PUZZLES, puzzle, words


def toks(text: str) -> list[str]:
    """A BPE-like cut: words with their leading space, digits one by one, punctuation alone."""
    return re.findall(r" ?[A-Za-z]+|\d| ?[^\sA-Za-z\d]|\s", text)


def fired(name: str, tokens: list[str]) -> list[str]:
    acts = puzzle(name).activations(tokens)
    assert set(np.unique(acts)) <= {0.0, 1.0}
    return [t.strip() for t, a in zip(tokens, acts, strict=True) if a]


def test_words_glue_tokens_without_space_and_split_at_punctuation():
    ws = words([" Wed", "nes", "day", ",", " the", " quick", "-", "running", " dog", "'s"])
    assert [w.text for w in ws] == ["Wednesday", "the", "quick", "running", "dog"]
    assert ws[0].tokens == (0, 1, 2)


def test_there_are_enough_puzzles_of_every_kind():
    kinds = {p.kind for p in PUZZLES}
    assert len(PUZZLES) >= 50
    assert sum(p.context_dependent for p in PUZZLES) >= 25
    assert kinds == {"word list", "word form", "position", "punctuation", "number", "topic",
                     "within markup", "number role", "neighbour", "name part", "repetition"}
    assert len({p.name for p in PUZZLES}) == len({p.explanation for p in PUZZLES}) == len(PUZZLES)
    with pytest.raises(KeyError):
        puzzle("nope")


def test_every_puzzle_has_two_distinct_near_misses():
    for p in PUZZLES:
        assert len(set(p.near_misses)) >= 2, p.name
        assert p.explanation not in p.near_misses, p.name


def test_months_fire_on_every_token_of_a_split_name():
    assert fired("months", [" In", " Sept", "ember", " and", " March", " we", " rest"]) \
        == ["Sept", "ember", "March"]
    assert fired("months", toks("Januarys are a month-free Marching idea")) == []


def test_be_forms():
    assert fired("be-forms", toks("It is, was and will be; Being there, beings are Isaac")) \
        == ["is", "was", "be", "Being", "are"]


def test_months_skip_the_verb_may():
    assert fired("months", toks("In January we may go; May I ask? You may.")) == ["January"]
    assert fired("months", toks("It rained in May and on 3 May and May 5, not in may.")) \
        == ["May", "May", "May"]
    assert fired("months", toks("The October rain and DECEMBER snow")) == ["October", "DECEMBER"]
    assert fired("months", toks("Mayor Marchant")) == []


def test_article_and_after_the():
    tokens = toks("The cat saw the big-dog and the, then thesis")
    assert fired("article-the", tokens) == ["The", "the", "the"]
    assert fired("after-the", tokens) == ["cat", "big"]


def test_pronouns_negations_conjunctions():
    assert fired("pronouns", toks("She gave him her book and they thanked us, his friends")) \
        == ["She", "him", "her", "they", "us"]
    assert fired("negations", toks("No, I never said nothing; not now. Note nobody")) \
        == ["No", "never", "nothing", "not", "nobody"]
    assert fired("conjunctions", toks("Bread and butter or tea but Andrew ordered")) \
        == ["and", "or", "but"]


def test_word_endings_are_spelling_rules():
    assert fired("ing-words", toks("Singing ing king things bring")) == ["Singing", "king",
                                                                         "bring"]
    assert fired("ly-words", toks("Only early birds fly; ly, ugly July")) \
        == ["Only", "early", "fly", "ugly", "July"]


def test_capitals():
    assert fired("capitalised", toks("The USA and i saw Paris.")) == ["The", "USA", "Paris"]
    assert fired("all-caps", toks("The USA, NATO and A few UK-based I")) == ["USA", "NATO",
                                                                           "UK"]


def test_sentence_start_and_before_comma():
    tokens = toks("it rained. Then snow! why? yes 3.5 is odd. \"Quoted\" ok")
    assert fired("sentence-start", tokens) == ["Then", "why", "yes"]
    assert fired("before-comma", toks("Red, green and blue , then 5, x")) == ["Red"]


def test_punctuation():
    tokens = ["Hi", ",", " (", "a", ")", " \"", "b", "\u201d", " -", "c", ";", ":", "3", ".",
              "\u2014"]
    assert fired("commas", tokens) == [","]
    assert fired("parentheses", tokens) == ["(", ")"]
    assert fired("quotes", tokens) == ['"', "\u201d"]
    assert fired("dashes", tokens) == ["-", "\u2014"]
    assert fired("colons", tokens) == [";", ":"]
    assert fired("full-stops", tokens) == ["."]


def test_numbers():
    tokens = toks("In 1990 and 2100 we had 12 ones, one hundred and 1,000 or 999")
    assert fired("digits", tokens) == list("1990" "2100" "12" "1000" "999")
    assert fired("years", tokens) == list("1990")
    assert fired("number-words", tokens) == ["one", "hundred"]
    assert fired("years", [" ", "1", "9", "9", "0", "s"]) == list("1990")
    assert fired("years", [" ", "1", "9", " ", "9", "0"]) == []


def test_topics():
    assert fired("countries", toks("From France to the United States, not united states, "
                                   "nor Chinatown; New Zealand and Japan")) \
        == ["France", "United", "States", "New", "Zealand", "Japan"]
    assert fired("colours", toks("A red rose, Greenland and green tea, redder")) == ["red",
                                                                                     "green"]
    assert fired("family", toks("My mother and brothers, not motherland")) \
        == ["mother", "brothers"]
    assert fired("animals", toks("Dogs, cats, catalogue and a horse")) == ["Dogs", "cats",
                                                                         "horse"]


def test_every_rule_fires_somewhere_and_not_everywhere():
    text = toks("It is Monday, 3 May 1990, the British family (mother and dog) saw red flags: "
                "\"NOT ever\" - walking slowly. Then I said one thing in France, and the "
                "''Iliad'' of Homer's 2.5% (in 1990),\n== Sisters ==\n* Three-cornered houses, "
                "5 cats of King Olaf, more cats")
    for p in PUZZLES:
        acts = p.activations(text)
        assert 0 < acts.sum() < len(text), p.name


def test_pooled_statistics_match_numpy_and_the_interval_decides_clean_wins():
    from superpose.explainer.puzzles import margin_interval, pooled_corr, record_stats

    rng = np.random.default_rng(1)
    true = [rng.integers(0, 2, 12).astype(float) for _ in range(20)]
    good = [t * 8 + rng.normal(0, 0.5, t.size) for t in true]
    noise = [[rng.normal(0, 1, t.size) for t in true] for _ in range(3)]
    stats = record_stats(true, [good, *noise])
    got = pooled_corr(stats.sum(axis=1))
    want = [np.corrcoef(np.concatenate(true), np.concatenate(s))[0, 1] for s in [good, *noise]]
    assert np.allclose(got, want)
    win = margin_interval(stats, 500, seed=0)
    assert win["clean_win"] and 0 < win["margin_ci_low"] <= win["margin"] <= win["margin_ci_high"]
    assert win == margin_interval(stats, 500, seed=0)  # fixed seed: reproducible
    # the true explanation as one of the noise ones: no clean win
    lose = margin_interval(record_stats(true, [noise[0], good, noise[1]]), 500, seed=0)
    assert not lose["clean_win"] and lose["margin"] < 0
    # a constant prediction has no correlation: never a win, reported as undefined
    flat = margin_interval(record_stats(true, [[np.zeros(t.size) for t in true], noise[0]]),
                           200, seed=0)
    assert flat["true_correlation"] is None and not flat["clean_win"]


# ---- context-dependent rules: the same token fires or not by what surrounds it -------------

def test_words_within_quotes_brackets_italics_and_headings():
    text = toks("He said \"go home now\" (in 1990) to the ''Iliad'' crew.\n== Early life ==\nok")
    assert fired("quoted-words", text) == ["go", "home", "now"]
    assert fired("bracketed-words", text) == ["in"]
    assert fired("italic-titles", text) == ["Iliad"]
    assert fired("heading-words", text) == ["Early", "life"]
    # unpaired marks mark nothing; bold (three apostrophes) is not italics
    assert fired("quoted-words", toks('a "b c')) == []
    assert fired("bracketed-words", toks("a (b c")) == []
    assert fired("italic-titles", toks("'''Bold''' and = one =")) == []
    assert fired("heading-words", toks("= one = and a == b")) == []


def test_numbers_in_one_role():
    text = toks("Born in 1952 (died 1990), about 25% or 7 percent, on 6 October and "
                "May 3, 4.15 and 1.5, sixteen 16 years ago, three weeks and 3 bus")
    assert fired("bracketed-years", text) == list("1990")
    assert fired("year-after-in", text) == list("1952")
    assert fired("percentages", text) == ["2", "5", "7"]
    assert fired("day-of-date", text) == ["6", "3"]
    assert fired("decimals", text) == ["1", "5", "5"]
    assert fired("counted-plurals", text) == ["years", "weeks"]
    assert fired("year-after-in", toks("in 19900 and in 2150 and (12)")) == []
    assert fired("bracketed-years", toks("1990 (then 12)")) == []


def test_words_after_or_before_a_word():
    text = toks("Most of them did not go to the United States, and the city, in Paris, and in "
                "time King Louis and Dr. Smith met left-wing anti-war Newton")
    assert fired("after-of", text) == ["them"]
    assert fired("after-negation", text) == ["go"]
    assert fired("place-after-in", text) == ["Paris"]
    assert fired("name-after-title", text) == ["Louis", "Smith"]
    assert fired("the-before-name", text) == ["the"]
    assert fired("and-after-comma", text) == ["and", "and"]
    assert fired("after-hyphen", text) == ["wing", "war"]
    assert fired("after-hyphen", toks("a - b and -c")) == []


def test_possessive_s_only_after_a_capitalised_word():
    tokens = [" Newton", "'s", " law", " and", " it", "'s", " the", " dog", "'s", " Ann", "'", "s"]
    assert fired("possessive-s", tokens) == ["'s", "'", "s"]


def test_parts_of_multi_word_names():
    text = toks("in New Zealand and John Ronald Smith met a Dutch man")
    assert fired("name-start", text) == ["New", "John", "Ronald"]
    assert fired("name-continuation", text) == ["Zealand", "Ronald", "Smith"]


def test_positions_and_structure():
    text = toks("it rained. Then Paris,\n* Alpha item\n*''Beta'' film\nSaw \"hi\" and \"bye.\"")
    assert fired("first-piece", text) == ["it"]
    assert fired("newline-start", text) == ["*", "*", "Saw"]
    assert fired("bullet-start", text) == ["Alpha", "Beta"]
    assert fired("sentence-end", text) == ["rained", "bye"]
    assert fired("mid-sentence-capital", text) == ["Paris"]  # not after a newline
    assert fired("closing-quotes", text) == ['"', '"']
    assert fired("first-piece", [" ", "a"]) == [""]


def test_repeats_need_four_letters_and_an_earlier_occurrence():
    assert fired("repeats", toks("The cat and the Cat saw a house; the house, HOUSE")) \
        == ["house", "HOUSE"]


def test_auc_margin_interval_decides_judge_wins():
    from superpose.explainer.puzzles import auc_margin_interval

    rng = np.random.default_rng(0)
    truth = [True] * 20 + [False] * 20
    good = [0.9 if t else 0.1 for t in truth]
    noise = [[float(v) for v in rng.uniform(0, 1, 40)] for _ in range(3)]
    win = auc_margin_interval(truth, [good, *noise], 500, seed=0)
    assert win["true_auc"] == 1.0 and win["clean_win"] and win["margin_ci_low"] > 0
    assert win == auc_margin_interval(truth, [good, *noise], 500, seed=0)
    lose = auc_margin_interval(truth, [noise[0], good], 500, seed=0)
    assert not lose["clean_win"] and lose["margin"] < 0
    # unanswered examples count 0.5: all unanswered is chance, never a win
    flat = auc_margin_interval(truth, [[None] * 40, noise[1]], 200, seed=0)
    assert flat["true_auc"] == 0.5 and not flat["clean_win"]
