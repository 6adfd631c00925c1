"""Synthetic neurons with known rules, for checking that a simulator can tell explanations apart.

A :class:`Puzzle` is an explanation and a rule that implements exactly what the explanation
says, on the token texts of a record: activation 1 on every token the explanation names, 0
elsewhere. Rules work on *words* rebuilt from tokens (a word is a run of letter-only tokens
with no space between them), so a word split into several tokens fires on all of them and a
word list never matches half a word. Each rule is unit-tested on hand-made text
(``tests/test_llm_puzzles.py``).

Kinds: word lists, word forms, positions, punctuation, numbers and topics, and the kinds
where a token fires or not by its context, as many real neurons do (OpenAI's GPT-2 and
Neuronpedia's published explanations are full of them): words within markup (quotes,
brackets, wiki italics, headings), numbers in one role (years in brackets, percentages, day of
a date), the word after (or before) a given word, parts of multi-word names, positions in a
sentence or line, and repeats. Each puzzle carries near misses: false explanations that are the
true one without its condition, or a broader or narrower class. Context rules that need a pair
(quotes, brackets) see only the record's own tokens, as a simulator does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
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
    """A synthetic neuron: ``rule`` is exactly what ``explanation`` says.

    ``near_misses`` are false explanations close to the true one (the true one without its
    condition, or a broader or narrower class); ``context_dependent``: whether a token fires
    depends on its neighbours, the markup around it or its position, not on the token alone.
    """

    name: str
    kind: str
    explanation: str
    rule: Rule
    near_misses: tuple[str, ...] = ()
    context_dependent: bool = False

    def activations(self, tokens: Sequence[str]) -> np.ndarray:
        return np.asarray(self.rule(list(tokens)), dtype=np.float64)


def _ends(suffix: str) -> Rule:
    return word_rule(lambda ws, i, _: ws[i].text.lower().endswith(suffix)
                     and len(ws[i].text) > len(suffix))


# ---- context: spans of the joined text, neighbours, positions ------------------------------

Find = Callable[[str], Iterable[tuple[int, int]]]


def span_rule(find: Find, letters_only: bool = False) -> Rule:
    """Fires on every token with a visible character inside a span that ``find`` returns on
    the record's joined text (``letters_only``: only on letter tokens, i.e. on words)."""
    def rule(tokens: Sequence[str]) -> np.ndarray:
        text = "".join(tokens)
        inside = np.zeros(len(text) + 1, dtype=bool)
        for start, end in find(text):
            inside[start:end] = True
        acts, pos = np.zeros(len(tokens)), 0
        for i, token in enumerate(tokens):
            visible = [pos + k for k, c in enumerate(token) if not c.isspace()]
            if any(inside[k] for k in visible) and (not letters_only or _letters(token.strip())):
                acts[i] = 1.0
            pos += len(token)
        return acts
    return rule


def regex_spans(pattern: str, flags: int = 0) -> Find:
    """The spans of every group that took part in each match (the whole match if none)."""
    compiled = re.compile(pattern, flags)

    def find(text: str) -> list[tuple[int, int]]:
        out = []
        for m in compiled.finditer(text):
            groups = [g for g in range(1, (compiled.groups or 0) + 1) if m.start(g) >= 0]
            out.extend(m.span(g) for g in groups or [0])
        return out
    return find


def both(*rules: Rule) -> Rule:
    """Fires where every one of ``rules`` fires."""
    return lambda tokens: np.prod([np.asarray(r(tokens), dtype=float) for r in rules], axis=0)


def _capital(word: Word) -> bool:
    return word.text[0].isupper()


def _after_word(vocabulary: frozenset[str] | set[str], capital: bool = False
                ) -> Callable[[list[Word], int, Sequence[str]], bool]:
    """The word straight after one of ``vocabulary`` (only whitespace between;
    ``capital``: the word itself must be capitalised)."""
    def test(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
        return i > 0 and ws[i - 1].text.lower() in vocabulary and \
            _only_space_between(tokens, ws[i - 1], ws[i]) and (not capital or _capital(ws[i]))
    return test


def _next_capital(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    return i + 1 < len(ws) and _capital(ws[i + 1]) and _only_space_between(tokens, ws[i], ws[i + 1])


def _name_start(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    return _capital(ws[i]) and _next_capital(ws, i, tokens)


def _name_continuation(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    return i > 0 and _capital(ws[i]) and _name_start(ws, i - 1, tokens)


def _the_before_capital(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    return ws[i].text.lower() == "the" and _next_capital(ws, i, tokens)


TITLES = frozenset("president king queen saint st sir dr mr mrs ms lord lady prince princess "
                   "emperor pope general captain bishop".split())


def _after_title(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    """A capitalised word after a capitalised title, with at most a full stop between (Dr. X)."""
    if i == 0 or not _capital(ws[i]) or not _capital(ws[i - 1]) or \
            ws[i - 1].text.lower() not in TITLES:
        return False
    between = "".join(tokens[ws[i - 1].tokens[-1] + 1:ws[i].tokens[0]])
    return between.strip() in ("", ".")


def _mid_sentence_capital(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    """Capitalised, and neither the record's first word, nor after . ! ? nor after a newline."""
    start = ws[i].tokens[0]
    if not _capital(ws[i]) or not any(t.strip() for t in tokens[:start]):
        return False
    gap = "".join(tokens[ws[i - 1].tokens[-1] + 1:start]) if i > 0 else ""
    return "\n" not in gap and _previous_visible(tokens, start)[-1:] not in (".", "!", "?", "")


def _sentence_end(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    nxt = ws[i].tokens[-1] + 1
    return nxt < len(tokens) and tokens[nxt].startswith(".")


def _after_hyphen(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    """Glued to a hyphen that is itself glued to a word or number before it (left-wing)."""
    j = ws[i].tokens[0]
    if ws[i].text != tokens[j] or j < 2 or tokens[j - 1] != "-":  # a space before the word
        return False
    before = tokens[j - 2]
    return bool(before) and before[-1].isalnum()


def _counted_plural(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    text = ws[i].text.lower()
    if len(text) < 3 or not text.endswith("s") or text.endswith(("ss", "us", "is")):
        return False
    start = ws[i].tokens[0]
    gap = tokens[ws[i - 1].tokens[-1] + 1:start] if i > 0 else []
    previous_digit = start > 0 and tokens[start].startswith(" ") and \
        _is_number_token(tokens[start - 1])
    previous_word = i > 0 and not gap and ws[i - 1].text.lower() in NUMBER_WORDS
    return previous_digit or previous_word


def _repeated(ws: list[Word], i: int, tokens: Sequence[str]) -> bool:
    text = ws[i].text.lower()
    return len(text) >= 4 and any(w.text.lower() == text for w in ws[:i])


def _first_token(tokens: Sequence[str]) -> np.ndarray:
    acts = np.zeros(len(tokens))
    acts[:1] = 1.0
    return acts


def _after_newline(tokens: Sequence[str]) -> np.ndarray:
    """The first token with a visible character after each newline."""
    acts, pending = np.zeros(len(tokens)), False
    for i, token in enumerate(tokens):
        core = token.strip()
        lead = token[:len(token) - len(token.lstrip())]
        if core and (pending or "\n" in lead):
            acts[i] = 1.0
        pending = "\n" in token[len(token.rstrip()):] if core else (pending or "\n" in token)
    return acts


MONTH_NAMES = "January|February|March|April|May|June|July|August|September|October|November|December"
_YEAR = r"(?<!\d)(?:1\d{3}|20\d{2})(?!\d)"


def _years_in(find: Find) -> Rule:
    return both(_years, span_rule(find))


PUZZLES: tuple[Puzzle, ...] = (
    # word lists
    Puzzle("be-forms", "word list", "forms of the verb to be: be, am, is, are, was, were, been, "
           "being", word_in(BE_FORMS),
           ("forms of the verb to have: have, has, had, having",
            "auxiliary verbs of every kind: is, has, will, can, would, should, may")),
    Puzzle("months", "word list", "names of the twelve months, January to December",
           word_rule(_month),
           ("days of the week, Monday to Sunday", "words about time: months, days, years, seasons")),
    Puzzle("article-the", "word list", 'the definite article "the"', word_in({"the"}),
           ("the articles a, an and the", 'the demonstratives "this" and "that"')),
    Puzzle("pronouns", "word list",
           "personal pronouns: I, you, he, she, it, we, they, me, him, her, us, them",
           word_in(PRONOUNS),
           ("possessive words: my, your, his, her, its, our, their",
            "pronouns of every kind, including who, which, this, that, myself")),
    Puzzle("negations", "word list",
           "negative words: not, no, never, nothing, none, nobody, neither, nor",
           word_in(NEGATIONS),
           ('the word "not"', "words of refusal or doubt such as hardly, refuse, deny, without")),
    Puzzle("conjunctions", "word list", 'the conjunctions "and", "or" and "but"',
           word_in(CONJUNCTIONS),
           ('the conjunction "and"', "linking words such as because, although, while, if, so")),
    # word forms
    Puzzle("ing-words", "word form", "words ending in -ing", _ends("ing"),
           ("verbs", "words ending in -ed")),
    Puzzle("ly-words", "word form", "words ending in -ly", _ends("ly"),
           ("adverbs", "words ending in -y")),
    Puzzle("capitalised", "word form", "words that begin with a capital letter",
           word_rule(lambda ws, i, _: ws[i].text[0].isupper()),
           ("proper names of people and places", "words written entirely in upper case")),
    Puzzle("all-caps", "word form",
           "words of two or more letters written entirely in upper case, like NATO",
           word_rule(lambda ws, i, _: len(ws[i].text) >= 2 and ws[i].text.isupper()),
           ("words that begin with a capital letter", "abbreviations with full stops such as U.S.")),
    # positions
    Puzzle("after-the", "position", 'whichever word comes straight after "the"',
           word_rule(_after_the), ('the definite article "the"', "nouns"), True),
    Puzzle("sentence-start", "position",
           "the first word of a sentence, following . ! or ?", word_rule(_sentence_start),
           ("words that begin with a capital letter",
            "the last word of a sentence, right before its full stop"), True),
    Puzzle("before-comma", "position", "the word immediately preceding a comma",
           word_rule(_before_comma), ("commas", "the word right after a comma"), True),
    # punctuation
    Puzzle("commas", "punctuation", "commas", chars_in(","),
           ("all punctuation marks", "full stops (periods)")),
    Puzzle("full-stops", "punctuation", "full stops (periods)", chars_in("."),
           ("the end of a sentence: full stops, question marks and exclamation marks", "commas")),
    Puzzle("parentheses", "punctuation", "round brackets ( and )", chars_in("()"),
           ("opening round brackets only", "square and curly brackets")),
    Puzzle("quotes", "punctuation", "double quotation marks", chars_in('"\u201c\u201d'),
           ("single quotation marks and apostrophes", "all punctuation marks")),
    Puzzle("dashes", "punctuation", "hyphens and dashes", chars_in("-\u2013\u2014"),
           ("underscores and slashes", "minus signs between numbers")),
    Puzzle("colons", "punctuation", "colons and semicolons", chars_in(":;"),
           ("colons only", "all punctuation marks")),
    # numbers
    Puzzle("digits", "number", "the digits 0 to 9", chars_in("0123456789"),
           ("four-digit numbers between 1000 and 2099, mostly years",
            "numbers spelled out in letters: one, two, three")),
    Puzzle("number-words", "number",
           "numbers spelled out in letters: one, two, ... twenty, thirty, ... hundred, "
           "thousand, million, billion", word_in(NUMBER_WORDS),
           ("the digits 0 to 9", "words for amounts such as many, few, several, some")),
    Puzzle("years", "number", "four-digit numbers between 1000 and 2099, mostly years",
           _years, ("the digits 0 to 9", "dates written with a month name")),
    # topics
    Puzzle("countries", "topic", "names of countries such as France, Japan or Brazil",
           phrase_in(set(COUNTRIES), capitalized=True),
           ("names of cities such as Paris, Tokyo or Boston",
            "place names of every kind: cities, rivers, regions and countries")),
    Puzzle("colours", "topic",
           "colour names: red, orange, yellow, green, blue, purple, pink, brown, black, white, "
           "grey", word_in(COLOURS),
           ("shapes such as round, square and oval", "adjectives that describe how things look")),
    Puzzle("family", "topic", "family members such as mother, brother, wife, cousin",
           word_in(FAMILY), ("people in general: man, woman, child, friend",
                             "marriage and weddings")),
    Puzzle("animals", "topic", "animals such as dog, horse, bird, fish", word_in(ANIMALS),
           ("plants such as tree, flower, grass", "living things: animals and plants")),
    # ---- context-dependent: the same token fires or not by what surrounds it ----
    # within markup (a word only within quotes, brackets, wiki italics, a heading)
    Puzzle("quoted-words", "within markup",
           "words within double quotation marks (the quoted words, not the marks)",
           span_rule(regex_spans('["\u201c]([^"\u201c\u201d\\n]+)["\u201d]'), letters_only=True),
           ("double quotation marks", "words within round brackets"), True),
    Puzzle("bracketed-words", "within markup",
           "words within round brackets (the bracketed words, not the brackets)",
           span_rule(regex_spans(r"\(([^()\n]*)\)"), letters_only=True),
           ("round brackets ( and )", "words within double quotation marks"), True),
    Puzzle("italic-titles", "within markup",
           "words set between two double apostrophes, the wiki markup for italic titles as in "
           "''Animal Farm''",
           span_rule(regex_spans(r"(?<!')''(?!')([^'\n]+?)(?<!')''(?!')"), letters_only=True),
           ("apostrophes", "titles of books, films and plays"), True),
    Puzzle("heading-words", "within markup",
           "words of a section heading set between runs of equals signs, as in == History ==",
           span_rule(regex_spans(r"(={2,})([^=\n]+)\1"), letters_only=True),
           ("equals signs", "words that begin with a capital letter"), True),
    # numbers in one role only
    Puzzle("bracketed-years", "number role", "years written within round brackets, as in (1952)",
           _years_in(regex_spans(r"\(([^()\n]*)\)")),
           ("four-digit numbers between 1000 and 2099, mostly years",
            "words within round brackets (the bracketed words, not the brackets)"), True),
    Puzzle("year-after-in", "number role", 'years directly after the word "in", as in "in 1953"',
           _years_in(regex_spans(r"\b[Ii]n (" + _YEAR[len("(?<!\\d)"):] + ")")),
           ("four-digit numbers between 1000 and 2099, mostly years",
            'whichever word comes straight after "in"'), True),
    Puzzle("percentages", "number role",
           "numbers that are percentages, directly before a % sign or the word percent",
           span_rule(regex_spans(r"\d+(?:[.,]\d+)*(?=\s?%|\s?per ?cent\b)")),
           ("the digits 0 to 9", "percent signs"), True),
    Puzzle("day-of-date", "number role",
           "the day number of a date, next to a month name as in 6 October or October 6",
           span_rule(regex_spans(rf"\b(?:{MONTH_NAMES}) (\d{{1,2}})(?!\d)|(?<!\d)(\d{{1,2}}) "
                                 rf"(?:{MONTH_NAMES})\b")),
           ("names of the twelve months, January to December", "the digits 0 to 9"), True),
    Puzzle("decimals", "number role", "the digits after a decimal point, as the 15 of 0.15",
           span_rule(regex_spans(r"(?<=\d\.)\d+")),
           ("the digits 0 to 9", "full stops (periods)"), True),
    Puzzle("counted-plurals", "number role",
           'a plural noun straight after a number, as "years" in 16 years or "weeks" in '
           "two weeks (a word ending in -s)", word_rule(_counted_plural),
           ("plural nouns (words ending in -s)", "the digits 0 to 9"), True),
    # the word after (or before) a particular word
    Puzzle("after-of", "neighbour", 'whichever word comes straight after "of"',
           word_rule(_after_word({"of"})),
           ('the word "of"', 'whichever word comes straight after "the"'), True),
    Puzzle("after-negation", "neighbour",
           'whichever word comes straight after "not", "never" or "no"',
           word_rule(_after_word({"not", "never", "no"})),
           ("negative words: not, no, never, nothing, none, nobody, neither, nor",
            'whichever word comes straight after "the"'), True),
    Puzzle("place-after-in", "neighbour",
           'a capitalised word straight after "in", usually a place as in "in Alabama"',
           word_rule(_after_word({"in"}, capital=True)),
           ("place names of every kind: cities, rivers, regions and countries",
            'whichever word comes straight after "in"'), True),
    Puzzle("name-after-title", "neighbour",
           "a name right after a title such as President, King, Saint, Sir or Dr",
           word_rule(_after_title),
           ("titles such as President, King, Saint, Sir or Dr",
            "words that begin with a capital letter"), True),
    Puzzle("the-before-name", "neighbour",
           '"the" when the next word is capitalised, as in "the United States"',
           word_rule(_the_before_capital),
           ('the definite article "the"', 'a capitalised word straight after "the"'), True),
    Puzzle("and-after-comma", "neighbour", '"and" right after a comma, as in "red, white, and blue"',
           span_rule(regex_spans(r",\s*(and)\b")),
           ('the conjunctions "and", "or" and "but"', "commas"), True),
    Puzzle("after-hyphen", "neighbour",
           'the part of a hyphenated compound after its hyphen, as "wing" in left-wing',
           word_rule(_after_hyphen),
           ("hyphens and dashes", "the part of a hyphenated compound before its hyphen"), True),
    Puzzle("possessive-s", "neighbour",
           "the possessive 's straight after a capitalised name, as in Newton's",
           span_rule(regex_spans(r"\b[A-Z][^\W\d_]*(['\u2019]s)\b")),
           ("apostrophes", "words that begin with a capital letter"), True),
    # parts of multi-word names
    Puzzle("name-start", "name part",
           "a capitalised word directly before another capitalised word, as New in New Zealand",
           word_rule(_name_start),
           ("words that begin with a capital letter",
            "a capitalised word directly after another capitalised word"), True),
    Puzzle("name-continuation", "name part",
           "a capitalised word directly after another capitalised word, as Zealand in New Zealand",
           word_rule(_name_continuation),
           ("words that begin with a capital letter",
            "a capitalised word directly before another capitalised word"), True),
    # positions and structure
    Puzzle("first-piece", "position", "whatever comes at the very start of the passage",
           _first_token,
           ("the first word of a sentence, following . ! or ?",
            "words that begin with a capital letter"), True),
    Puzzle("newline-start", "position",
           "whatever comes just after a newline: the start of a paragraph, heading or list item",
           _after_newline,
           ("newlines (line breaks)", "the first word of a sentence, following . ! or ?"), True),
    Puzzle("bullet-start", "position",
           "the first word of a bulleted item, right after the asterisk that opens it",
           span_rule(regex_spans(r"(?:^|\n)[ \t]*\*+[ \t]*(?:'{2,3})?[ \t]*([A-Za-z]+)")),
           ("asterisks", "the first word of a sentence, following . ! or ?"), True),
    Puzzle("sentence-end", "position", "the last word of a sentence, right before its full stop",
           word_rule(_sentence_end),
           ("full stops (periods)", "the word immediately preceding a comma"), True),
    Puzzle("mid-sentence-capital", "position",
           "capitalised words in the middle of a sentence, mostly names, never its first word",
           word_rule(_mid_sentence_capital),
           ("words that begin with a capital letter",
            "the first word of a sentence, following . ! or ?"), True),
    Puzzle("closing-quotes", "position",
           "closing double quotation marks, the ones that end a quotation",
           span_rule(regex_spans('"[^"\\n]+(")')),
           ("double quotation marks", "opening double quotation marks, the ones that start a quotation"),
           True),
    Puzzle("repeats", "repetition",
           "a word of four or more letters that already appeared earlier in the same passage",
           word_rule(_repeated),
           ("the first time a word appears in the passage", "a word repeated straight after itself"),
           True),
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


def _aucs(truth: np.ndarray, probs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted AUC of each row of ``probs`` (candidates, examples); weights (B, examples) are
    resample counts. Ties count one half. NaN where a resample lacks one of the two kinds."""
    pos, neg = truth, ~truth
    # greater[c, i, j]: example i scored above example j by candidate c (i true, j false)
    diff = probs[:, pos][:, :, None] - probs[:, neg][:, None, :]
    wins = (diff > 0) + 0.5 * (diff == 0)
    wp, wn = weights[:, pos], weights[:, neg]
    num = np.einsum("bi,cij,bj->bc", wp, wins, wn)
    den = (wp.sum(axis=1) * wn.sum(axis=1))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def auc_margin_interval(truth: Sequence[bool], probs: Sequence[Sequence[float | None]], n_boot: int,
                        seed: int) -> dict[str, float | None]:
    """The judge scorers' counterpart of :func:`margin_interval`: AUC of the judge's P(yes) of
    true against false examples per candidate (candidate 0 the true explanation; an unanswered
    example counts 0.5), the margin of candidate 0 over the best other, and its bootstrap 95%
    interval (examples resampled with replacement). Clean win: true AUC above chance (0.5) and
    the interval above zero."""
    t = np.asarray(truth, dtype=bool)
    p = np.array([[0.5 if v is None else float(v) for v in row] for row in probs])
    full = _aucs(t, p, np.ones((1, t.size)))[0]
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, t.size, t.size), minlength=t.size)
                       for _ in range(n_boot)]).astype(float)
    boot = _aucs(t, p, counts)
    best_false = np.where(np.isnan(boot[:, 1:]), -np.inf, boot[:, 1:]).max(axis=1)
    margins = np.where(np.isnan(boot[:, 0]), -np.inf, boot[:, 0] - best_false)
    low = float(np.quantile(margins, 0.025, method="lower"))
    high = float(np.quantile(margins, 0.975, method="higher"))
    true_auc = None if np.isnan(full[0]) else float(full[0])
    others = full[1:][~np.isnan(full[1:])]
    false_auc = float(others.max()) if others.size else None
    return {"true_auc": true_auc, "best_false_auc": false_auc,
            "margin": None if true_auc is None else true_auc - (false_auc if false_auc is not None else 0.0),
            "margin_ci_low": low if np.isfinite(low) else None,
            "margin_ci_high": high if np.isfinite(high) else None,
            "clean_win": bool(true_auc is not None and true_auc > 0.5 and np.isfinite(low) and low > 0)}
