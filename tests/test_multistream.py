"""Multistream bz2 dumps: streams found (index or scan), read in parallel, the same corpus as one reader."""

from __future__ import annotations

import bz2
from pathlib import Path

import pytest

from superpose.corpus import multistream
from superpose.corpus.build import build_corpus
from superpose.corpus.multistream import chunks, split_pages, stream_offsets

HEAD = (b'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">\n'
        b"  <siteinfo><sitename>T</sitename></siteinfo>\n")
WORDS = ["river", "mountain", "valley", "forest", "ocean", "desert", "island", "glacier", "canyon", "meadow"]


def _page(i: int) -> bytes:
    text = " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(40 + i % 13))
    body = f"'''Page {i}''' is a [[link|{text}]] {{{{cite|x}}}} {text}"
    if i % 9 == 4:
        body = "#REDIRECT [[Elsewhere]]"
    return (f"  <page><title>P{i}</title><ns>0</ns><id>{i + 1}</id><revision><id>{i + 1}</id>"
            f"<text xml:space=\"preserve\">{body}</text></revision></page>\n").encode()


def _xml(pages: int) -> list[bytes]:
    return [HEAD, *(_page(i) for i in range(pages)), b"</mediawiki>\n"]


def write_multistream(path: Path, pages: int, per_stream: int, index: bool) -> list[int]:
    """Wikipedia's layout: the header, ``per_stream`` pages per stream, the footer; optional index."""
    parts = _xml(pages)
    groups = [[parts[0]]] + [parts[1 + i:1 + i + per_stream] for i in range(0, pages, per_stream)] + [[parts[-1]]]
    offsets, lines = [], []
    with open(path, "wb") as out:
        for group in groups:
            offsets.append(out.tell())
            if group[0].lstrip().startswith(b"<page>"):
                lines.extend(f"{offsets[-1]}:{n}:P{n}\n" for n in range(len(lines), len(lines) + len(group)))
            out.write(bz2.compress(b"".join(group)))
    if index:
        name = path.name[: -len(".xml.bz2")] + "-index.txt.bz2"
        (path.parent / name).write_bytes(bz2.compress("".join(lines).encode()))
    return offsets


def write_split_anywhere(path: Path, pages: int, piece: int) -> None:
    """A parallel bzip2 tool's layout: the XML cut every ``piece`` bytes, pages straddle streams."""
    xml = b"".join(_xml(pages))
    path.write_bytes(b"".join(bz2.compress(xml[i:i + piece]) for i in range(0, len(xml), piece)))


def _counts(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".npy", ".txt")}


@pytest.mark.parametrize("index", [True, False])
def test_streams_are_found_by_index_or_by_scanning(tmp_path, index):
    path = tmp_path / "wiki-multistream.xml.bz2"
    offsets = write_multistream(path, 40, 7, index)
    if index:  # the index names the streams that hold pages: the footer's stream goes with the last
        offsets = offsets[:-1]
    assert stream_offsets(path) == offsets
    ranges = chunks(path, chunk_bytes=1)
    assert [r[1] for r in ranges] == offsets and ranges[-1][2] == path.stat().st_size


def test_a_single_stream_file_is_one_chunk(tmp_path):
    path = tmp_path / "one.xml.bz2"
    path.write_bytes(bz2.compress(b"".join(_xml(10))))
    assert chunks(path, chunk_bytes=1) == [(str(path), 0, path.stat().st_size)]


@pytest.mark.parametrize("layout", ["index", "scan", "split-anywhere"])
def test_parallel_streams_give_the_corpus_of_one_reader(tmp_path, monkeypatch, layout):
    path = tmp_path / "wiki-multistream.xml.bz2"
    if layout == "split-anywhere":
        write_split_anywhere(path, 60, 997)
    else:
        write_multistream(path, 60, 5, layout == "index")
    one = build_corpus([str(path)], tmp_path / "one", workers=1)
    used = []
    original = multistream.token_batches
    monkeypatch.setattr(multistream, "CHUNK_BYTES", 300)  # several chunks, several streams each

    def spy(*args, **kwargs):
        batches = original(*args, **kwargs)
        used.append(batches is not None)
        return batches

    monkeypatch.setattr(multistream, "token_batches", spy)
    two = build_corpus([str(path)], tmp_path / "two", workers=2)
    assert used == [True]  # the streams went to the workers
    assert _counts(tmp_path / "one") == _counts(tmp_path / "two")
    assert one.meta["documents"] == two.meta["documents"] == 60 - len(range(4, 60, 9))
    assert len(multistream.chunks(path)) > 2


def test_split_pages_keeps_whole_pages_in_the_body():
    head, body, tail = split_pages(b"ge>x</page>\n<page>a</page><page>b</page>\n<pa")
    assert (head, body, tail) == (b"ge>x</page>\n", b"<page>a</page><page>b</page>", b"\n<pa")
    assert split_pages(b"no pages here") == (b"no pages here", b"", b"")


def test_a_broken_index_is_one_line(tmp_path):
    from superpose.core.errors import SuperposeError

    path = tmp_path / "wiki-multistream.xml.bz2"
    write_multistream(path, 10, 3, True)
    (tmp_path / "wiki-multistream-index.txt.bz2").write_bytes(bz2.compress(b"not an index\n"))
    with pytest.raises(SuperposeError, match="not 'offset:page id:title'"):
        stream_offsets(path)
