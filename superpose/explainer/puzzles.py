"""Synthetic neurons with known rules, for checking that a simulator can tell explanations apart.

A :class:`Puzzle` is an explanation and a rule that implements exactly what the explanation
says, on the token texts of a record: activation 1 on every token the explanation names, 0
elsewhere. Rules work on *words* rebuilt from tokens (a word is a run of letter-only tokens
with no space between them), so a word split into several tokens fires on all of them and a
word list never matches half a word. Each rule is unit-tested on hand-made text
(``tests/test_llm_puzzles.py``).

Kinds: word lists, word forms, positions, punctuation, numbers and topics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Rule = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Word:
    """A word rebuilt from tokens: its text and the indices of its tokens."""

    text: str
    tokens: tuple[int, ...]


def _letters(text: str) -> bool:
    return bool(text) and all(c.isalpha() for c in text)


def words(tokens: Sequence[str]) -> list[Word]:
    """Words of a token sequence: a letter-only token (after leading whitespace) starts a word,
    and a following letter-only token without leading whitespace continues it."""
    out: list[Word] = []
    text, idx, prev_word = "", [], False
    for i, token in enumerate(tokens):
        core = token.lstrip()
        if _letters(core):
            if prev_word and core == token:  # glued to the previous letter token
                text, idx = text + core, idx + [i]
            else:
                if idx:
                    out.append(Word(text, tuple(idx)))
                text, idx = core, [i]
            prev_word = True
        else:
            if idx:
                out.append(Word(text, tuple(idx)))
            text, idx, prev_word = "", [], False
    if idx:
        out.append(Word(text, tuple(idx)))
    return out


def _mark(n: int, chosen: Sequence[Word]) -> np.ndarray:
    acts = np.zeros(n)
    for word in chosen:
        acts[list(word.tokens)] = 1.0
    return acts


def word_rule(test: Callable[[list[Word], int, Sequence[str]], bool]) -> Rule:
    """Fires on every token of each word ``w[i]`` for which ``test(w, i, tokens)`` holds."""
    def rule(tokens: Sequence[str]) -> np.ndarray:
        ws = words(tokens)
        return _mark(len(tokens), [w for i, w in enumerate(ws) if test(ws, i, tokens)])
    return rule


def word_in(vocabulary: set[str] | frozenset[str]) -> Rule:
    """Words in ``vocabulary`` (compared in lower case)."""
    return word_rule(lambda ws, i, _: ws[i].text.lower() in vocabulary)


def phrase_in(phrases: set[str], capitalized: bool = False) -> Rule:
    """Words or runs of up to three adjacent words forming one of ``phrases`` (lower case).

    ``capitalized``: each word of the match must start with a capital letter (proper names).
    """
    longest = max(len(p.split()) for p in phrases)

    def rule(tokens: Sequence[str]) -> np.ndarray:
        ws, chosen, i = words(tokens), [], 0
        while i < len(ws):
            for size in range(min(longest, len(ws) - i), 0, -1):
                run = ws[i:i + size]
                adjacent = all(_only_space_between(tokens, a, b) for a, b in zip(run, run[1:], strict=False))
                text = " ".join(w.text.lower() for w in run)
                if text in phrases and adjacent and \
                        (not capitalized or all(w.text[0].isupper() for w in run)):
                    chosen.extend(run)
                    i += size
                    break
            else:
                i += 1
        return _mark(len(tokens), chosen)
    return rule


def _only_space_between(tokens: Sequence[str], a: Word, b: Word) -> bool:
    """Nothing but whitespace between the end of word ``a`` and the start of word ``b``."""
    return all(not t.strip() for t in tokens[a.tokens[-1] + 1:b.tokens[0]])


def chars_in(chars: str) -> Rule:
    """Tokens containing any of ``chars``."""
    return lambda tokens: np.array([float(any(c in t for c in chars)) for t in tokens])


def _previous_visible(tokens: Sequence[str], i: int) -> str:
    """The last token before ``i`` that is not whitespace only ('' at the record's start)."""
    for j in range(i - 1, -1, -1):
        if tokens[j].strip():
            return tokens[j].strip()
    return ""


# ---- word lists ---------------------------------------------------------------------------

BE_FORMS = frozenset("be am is are was were been being".split())
MONTHS_NOT_MAY = frozenset("january february march april june july august september october "
                           "november december".split())
# "May" is a month only as a capitalised word next to a number or after a word that takes a
# date; lower-case "may" and sentence-initial "May I" are the verb.
MAY_BEFORE = frozenset("in of since until till by during early late mid last next this from "
                       "through".split())
PRONOUNS = frozenset("i you he she it we they me him her us them".split())
NEGATIONS = frozenset("not no never nothing none nobody neither nor".split())
CONJUNCTIONS = frozenset({"and", "or", "but"})
NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred thousand million billion".split())


def _is_number_token(token: str) -> bool:
    return token.strip().isdigit()


def _month(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    text = ws[i].text
    if text.lower() in MONTHS_NOT_MAY:
        return True
    if text != "May":
        return False
    before = _previous_visible(tokens, ws[i].tokens[0])
    after = next((t.strip() for t in tokens[ws[i].tokens[-1] + 1:] if t.strip()), "")
    return (_is_number_token(before) or _is_number_token(after[:1]) or
            (i > 0 and ws[i - 1].text.lower() in MAY_BEFORE and
             _only_space_between(tokens, ws[i - 1], ws[i])))


# ---- numbers ------------------------------------------------------------------------------

def _digit_runs(tokens: Sequence[str]) -> list[tuple[str, list[int]]]:
    """Numbers written in figures: runs of digit-only tokens with no space inside."""
    runs: list[tuple[str, list[int]]] = []
    for i, token in enumerate(tokens):
        if not _is_number_token(token):
            continue
        glued = token == token.lstrip()
        if runs and glued and runs[-1][1][-1] == i - 1:
            runs[-1] = (runs[-1][0] + token, runs[-1][1] + [i])
        else:
            runs.append((token.strip(), [i]))
    return runs


def _years(tokens: Sequence[str]) -> np.ndarray:
    acts = np.zeros(len(tokens))
    for text, idx in _digit_runs(tokens):
        if len(text) == 4 and 1000 <= int(text) <= 2099:
            acts[idx] = 1.0
    return acts


# ---- positions ----------------------------------------------------------------------------

def _after_the(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    return i > 0 and ws[i - 1].text.lower() == "the" and \
        _only_space_between(tokens, ws[i - 1], ws[i])


def _sentence_start(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    before = _previous_visible(tokens, ws[i].tokens[0])
    return before[-1:] in (".", "!", "?") and before != ""


def _before_comma(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    nxt = ws[i].tokens[-1] + 1
    return nxt < len(tokens) and tokens[nxt].startswith(",")


# ---- topics -------------------------------------------------------------------------------

COLOURS = frozenset("red orange yellow green blue purple pink brown black white grey".split())
FAMILY = frozenset(
    "mother mothers father fathers parent parents son sons daughter daughters brother brothers "
    "sister sisters wife wives husband husbands uncle uncles aunt aunts cousin cousins nephew "
    "nephews niece nieces grandfather grandfathers grandmother grandmothers grandparent "
    "grandparents grandson grandsons granddaughter granddaughters mom mum dad siblings sibling "
    "stepmother stepfather".split())
ANIMALS = frozenset(
    "animal animals dog dogs cat cats horse horses cow cows bull bulls sheep pig pigs goat goats "
    "chicken chickens hen hens duck ducks goose geese bird birds fish fishes lion lions tiger "
    "tigers bear bears wolf wolves fox foxes deer rabbit rabbits mouse mice rat rats snake "
    "snakes lizard lizards frog frogs whale whales dolphin dolphins shark sharks eagle eagles "
    "owl owls elephant elephants monkey monkeys ape apes camel camels insect insects bee bees "
    "ant ants spider spiders butterfly butterflies mammal mammals reptile reptiles donkey "
    "donkeys mule zebra giraffe giraffes kangaroo seal seals turtle turtles crocodile "
    "crocodiles parrot pigeon pigeons crow crows squirrel squirrels bat bats cattle salmon "
    "trout worm worms".split())
COUNTRIES = frozenset(
    ["afghanistan", "albania", "algeria", "andorra", "angola", "argentina", "armenia",
     "australia", "austria", "azerbaijan", "bahamas", "bahrain", "bangladesh", "barbados",
     "belarus", "belgium", "belize", "benin", "bhutan", "bolivia", "bosnia", "botswana",
     "brazil", "brunei", "bulgaria", "burundi", "cambodia", "cameroon", "canada", "chile",
     "china", "colombia", "congo", "croatia", "cuba", "cyprus", "czechia", "denmark",
     "djibouti", "dominica", "ecuador", "egypt", "eritrea", "estonia", "eswatini", "ethiopia",
     "fiji", "finland", "france", "gabon", "gambia", "germany", "ghana", "greece", "grenada",
     "guatemala", "guinea", "guyana", "haiti", "honduras", "hungary", "iceland", "india",
     "indonesia", "iran", "iraq", "ireland", "israel", "italy", "jamaica", "japan",
     "kazakhstan", "kenya", "kiribati", "kosovo", "kuwait", "kyrgyzstan", "laos", "latvia",
     "lebanon", "lesotho", "liberia", "libya", "liechtenstein", "lithuania", "luxembourg",
     "madagascar", "malawi", "malaysia", "maldives", "mali", "malta", "mauritania",
     "mauritius", "mexico", "micronesia", "moldova", "monaco", "mongolia", "montenegro",
     "morocco", "mozambique", "myanmar", "burma", "namibia", "nauru", "nepal", "netherlands",
     "holland", "nicaragua", "niger", "nigeria", "norway", "oman", "pakistan", "palau",
     "palestine", "panama", "paraguay", "peru", "philippines", "poland", "portugal", "qatar",
     "romania", "russia", "rwanda", "samoa", "senegal", "serbia", "seychelles", "singapore",
     "slovakia", "slovenia", "somalia", "spain", "sudan", "suriname", "sweden", "switzerland",
     "syria", "taiwan", "tajikistan", "tanzania", "thailand", "togo", "tonga", "tunisia",
     "turkey", "turkmenistan", "tuvalu", "uganda", "ukraine", "uruguay", "uzbekistan",
     "vanuatu", "venezuela", "vietnam", "yemen", "zambia", "zimbabwe", "england", "scotland",
     "wales", "britain", "america", "korea", "united states", "united kingdom",
     "new zealand", "south africa", "south korea", "north korea", "saudi arabia", "sri lanka",
     "costa rica", "el salvador", "sierra leone", "south sudan", "great britain",
     "east timor", "ivory coast", "soviet union", "papua new guinea", "czech republic",
     "dominican republic", "central african republic", "united arab emirates",
     "burkina faso", "cape verde", "north macedonia", "san marino", "vatican city",
     "equatorial guinea", "trinidad", "marshall islands", "solomon islands"])


@dataclass(frozen=True)
class Puzzle:
    """A synthetic neuron: ``rule`` is exactly what ``explanation`` says."""

    name: str
    kind: str
    explanation: str
    rule: Rule

    def activations(self, tokens: Sequence[str]) -> np.ndarray:
        return np.asarray(self.rule(list(tokens)), dtype=np.float64)


def _ends(suffix: str) -> Rule:
    return word_rule(lambda ws, i, _: ws[i].text.lower().endswith(suffix)
                     and len(ws[i].text) > len(suffix))


PUZZLES: tuple[Puzzle, ...] = (
    # word lists
    Puzzle("be-forms", "word list", "forms of the verb to be: be, am, is, are, was, were, been, "
           "being", word_in(BE_FORMS)),
    Puzzle("months", "word list", "names of the twelve months, January to December",
           word_rule(_month)),
    Puzzle("article-the", "word list", 'the definite article "the"', word_in({"the"})),
    Puzzle("pronouns", "word list",
           "personal pronouns: I, you, he, she, it, we, they, me, him, her, us, them",
           word_in(PRONOUNS)),
    Puzzle("negations", "word list",
           "negative words: not, no, never, nothing, none, nobody, neither, nor",
           word_in(NEGATIONS)),
    Puzzle("conjunctions", "word list", 'the conjunctions "and", "or" and "but"',
           word_in(CONJUNCTIONS)),
    # word forms
    Puzzle("ing-words", "word form", "words ending in -ing", _ends("ing")),
    Puzzle("ly-words", "word form", "words ending in -ly", _ends("ly")),
    Puzzle("capitalised", "word form", "words that begin with a capital letter",
           word_rule(lambda ws, i, _: ws[i].text[0].isupper())),
    Puzzle("all-caps", "word form", "words of two or more letters written entirely in upper case, like NATO",
           word_rule(lambda ws, i, _: len(ws[i].text) >= 2 and ws[i].text.isupper())),
    # positions
    Puzzle("after-the", "position", 'whichever word comes straight after "the"',
           word_rule(_after_the)),
    Puzzle("sentence-start", "position",
           "the first word of a sentence, following . ! or ?", word_rule(_sentence_start)),
    Puzzle("before-comma", "position", "the word immediately preceding a comma",
           word_rule(_before_comma)),
    # punctuation
    Puzzle("commas", "punctuation", "commas", chars_in(",")),
    Puzzle("full-stops", "punctuation", "full stops (periods)", chars_in(".")),
    Puzzle("parentheses", "punctuation", "round brackets ( and )", chars_in("()")),
    Puzzle("quotes", "punctuation", "double quotation marks", chars_in('"\u201c\u201d')),
    Puzzle("dashes", "punctuation", "hyphens and dashes", chars_in("-\u2013\u2014")),
    Puzzle("colons", "punctuation", "colons and semicolons", chars_in(":;")),
    # numbers
    Puzzle("digits", "number", "the digits 0 to 9", chars_in("0123456789")),
    Puzzle("number-words", "number",
           "numbers spelled out in letters: one, two, ... twenty, thirty, ... hundred, "
           "thousand, million, billion", word_in(NUMBER_WORDS)),
    Puzzle("years", "number", "four-digit numbers between 1000 and 2099, mostly years",
           _years),
    # topics
    Puzzle("countries", "topic", "names of countries such as France, Japan or Brazil",
           phrase_in(set(COUNTRIES), capitalized=True)),
    Puzzle("colours", "topic",
           "colour names: red, orange, yellow, green, blue, purple, pink, brown, black, white, "
           "grey", word_in(COLOURS)),
    Puzzle("family", "topic", "family members such as mother, brother, wife, cousin",
           word_in(FAMILY)),
    Puzzle("animals", "topic", "animals such as dog, horse, bird, fish", word_in(ANIMALS)),
)


# ---- clean wins: margin of the true explanation and its bootstrap interval ----------------

def record_stats(true: Sequence[np.ndarray], sims: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
    """Per record sufficient statistics of a pooled correlation, one block per candidate.

    Shape (candidates, records, 6): n, sum y, sum y^2, sum x, sum x^2, sum xy (y true).
    """
    out = np.zeros((len(sims), len(true), 6))
    for c, sim in enumerate(sims):
        for r, (y, x) in enumerate(zip(true, sim, strict=True)):
            y, x = np.asarray(y, float), np.asarray(x, float)
            out[c, r] = (y.size, y.sum(), (y * y).sum(), x.sum(), (x * x).sum(), (x * y).sum())
    return out


def pooled_corr(stats: np.ndarray) -> np.ndarray:
    """Pearson correlation from summed statistics (last axis as in :func:`record_stats`);
    NaN where either side is constant."""
    n, sy, syy, sx, sxx, sxy = np.moveaxis(stats, -1, 0)
    cov = n * sxy - sx * sy
    var = (n * sxx - sx * sx) * (n * syy - sy * sy)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(var)
    return np.where(var > 1e-12 * np.maximum(n, 1) ** 4, r, np.nan)


def margin_interval(stats: np.ndarray, n_boot: int, seed: int) -> dict[str, float | None]:
    """Correlations, margin of candidate 0 over the best other and its bootstrap 95% interval.

    Records are resampled with replacement; an undefined correlation in a resample counts as
    a loss for the true explanation (margin -inf), so the interval is conservative.
    """
    corr = pooled_corr(stats.sum(axis=1))
    n_rec = stats.shape[1]
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, n_rec, n_rec), minlength=n_rec)
                       for _ in range(n_boot)])  # (B, records)
    boot = pooled_corr(np.einsum("br,crk->bck", counts, stats))  # (B, candidates)
    true, false = boot[:, 0], boot[:, 1:]
    best_false = np.where(np.isnan(false), -np.inf, false).max(axis=1)
    margins = np.where(np.isnan(true), -np.inf, true - best_false)
    low = float(np.quantile(margins, 0.025, method="lower"))
    high = float(np.quantile(margins, 0.975, method="higher"))
    t = None if np.isnan(corr[0]) else float(corr[0])
    f_all = corr[1:][~np.isnan(corr[1:])]
    f = float(f_all.max()) if f_all.size else None
    margin = None if t is None else t - (f if f is not None else -1.0)
    return {"true_correlation": t, "best_false_correlation": f, "margin": margin,
            "margin_ci_low": low if np.isfinite(low) else None,
            "margin_ci_high": high if np.isfinite(high) else None,
            "clean_win": bool(t is not None and t > 0 and np.isfinite(low) and low > 0)}


def puzzle(name: str) -> Puzzle:
    for p in PUZZLES:
        if p.name == name:
            return p
    raise KeyError(f"no puzzle named {name!r}")
