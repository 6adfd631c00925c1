"""Our wiki markup filter gives exactly gensim's output, on real pages and on hand-made edge cases."""

from __future__ import annotations

import bz2

import pytest
from gensim.corpora.wikicorpus import extract_pages, filter_wiki, remove_template

from superpose.corpus.sources import resolve_sources
from superpose.corpus.wikimarkup import filter_markup, remove_language_links, remove_templates


def _gensim_pages() -> list[str]:
    path = resolve_sources(["gensim-wiki"])[0].path
    with bz2.open(path, "rb") as fh:
        return [text for _title, text, _id in extract_pages(fh) if text]


def test_every_page_of_the_bundled_excerpt_matches_gensim():
    pages = _gensim_pages()
    assert len(pages) > 100
    for page in pages:
        assert filter_markup(page) == filter_wiki(page)


EDGE_CASES = [
    "",
    "plain text, nothing to remove",
    "a {{template}} b",
    "nested {{outer {{inner}} still}} after",
    "unclosed {{template {{ never ends",
    "closes too often }} {{a}}}} z",
    "single { brace } and {{x}}{ y",
    "three {{{param}}} braces",
    "{{start}} and end {{",
    "{{a}}{{b}}c{{d|{{e}}}}",
    "text\n[[de:Katze]]\n[[fr:Chat]]",
    "text\n[[de:Katze]]\n[[fr:Chat]]\n",
    "text\n[[de:Katze]]\nmore\n[[fr:Chat]]",
    "text\n[[de:Katze\n[[x]] tail]]",
    "text\n[[Category:Cats]]\n[[en:Cat]]",
    "text\n[[de:Katze]]]]",
    "bgcolor=red at the start\nsecond line",
    "\n style=\"x\" first\nrest",
    "{| class=\"wikitable\"\n|-\n! head !! other\n|-\n| cell || cell2\n|}\nafter the table",
    "a\n| cell one | cell two\n|}\n",
    "x  | spaced cell\n\n! bang\n",
    "<!-- comment --> kept <ref name=a>note</ref> <ref name=b/> <math>x^2</math> <b>bold</b>",
    "[http://example.com described link] and [[Target|shown]] and [[Plain]]",
    "[[File:Cat.jpg|thumb|left|A cat]] caption\n[[Image:Dog.png|a dog]]",
    "&amp;nbsp; &lt;b&gt;entities&lt;/b&gt; [[a|b|c]] [] []",
    "|-1 not a row | x\n{|\n|}",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_match_gensim(text):
    assert filter_markup(text) == filter_wiki(text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_template_removal_matches_gensim(text):
    assert remove_templates(text) == remove_template(text)


def test_language_links_at_the_end_are_removed():
    assert remove_language_links("body\n[[de:Katze]]\n[[fr:Chat]]") == "body"
    assert remove_language_links("body\n[[de:Katze]]\n") == "body\n"
    assert remove_language_links("body\n[[de:Katze]] trailing") == "body\n[[de:Katze]] trailing"
