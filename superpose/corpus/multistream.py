"""Multistream ``.xml.bz2`` dumps, read in parallel by streams.

Wikipedia ships its dumps as "multistream" files: a concatenation of independent bz2 streams
(the site header, then about 100 pages per stream, then the closing tag), with an index file
``...-multistream-index.txt.bz2`` whose lines are ``offset:page id:title``, ``offset`` being the
byte where the page's stream starts. Each stream decompresses on its own, so a build hands
groups of consecutive streams to its worker processes, which decompress them, cut out the whole
pages and remove the markup. The parent finds the stream boundaries and parses only the pieces of
pages a boundary cuts (none in Wikipedia's files, whose streams hold whole pages; one per
boundary in a file split at arbitrary bytes, as parallel bzip2 tools write).

Boundaries come from the index when one lies beside the dump; otherwise the file is scanned for
the bytes every stream starts with (``BZh`` and a block size digit, then the 48-bit magic of a
first block or of an empty stream's end): a stream starts on a byte boundary, its blocks do not,
so a match elsewhere would need 80 chance bits. A file with one stream is read as before, by
one decompressing thread. Pages come out in file order either way, so the corpus is the same.
"""

from __future__ import annotations

import bz2
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.corpus.batches import TokenBatch, tokenize_batch
from superpose.corpus.workers import ordered_map

CHUNK_BYTES = 1 << 20  # compressed bytes per worker task (about 4 MB of XML)
_STREAM_START = re.compile(rb"BZh[1-9](?:\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)")
_NAMESPACE = re.compile(rb"<mediawiki[^>]*\sxmlns=\"([^\"]+)\"")


def index_path(dump: Path) -> Path | None:
    """The index Wikipedia ships beside a multistream dump, if it is there."""
    name = dump.name
    if name.endswith(".xml.bz2"):
        candidate = dump.with_name(name[: -len(".xml.bz2")] + "-index.txt.bz2")
        if candidate.is_file():
            return candidate
    return None


def _offsets_from_index(index: Path, size: int) -> list[int]:
    offsets = {0}
    try:
        with bz2.open(index, "rb") as fh:
            for number, line in enumerate(fh, 1):
                head, sep, _rest = line.partition(b":")
                if not sep or not head.isdigit():
                    raise SuperposeError(f"{index}, line {number}: not 'offset:page id:title': give the "
                                         "dump's own index or remove it (the dump is then scanned)")
                offsets.add(int(head))
    except (OSError, EOFError) as err:
        raise SuperposeError(f"{index} is not a readable bz2 file ({err}): give the dump's own index or "
                             "remove it (the dump is then scanned)") from err
    if max(offsets) >= size:
        raise SuperposeError(f"{index} points past the end of its dump: give the dump's own index or "
                             "remove it (the dump is then scanned)")
    return sorted(offsets)


def _offsets_by_scanning(dump: Path, block: int = 1 << 24) -> list[int]:
    offsets: list[int] = []
    overlap = 9  # a match may straddle two reads
    with open(dump, "rb") as fh:
        position, tail = 0, b""
        while True:
            data = fh.read(block)
            if not data:
                break
            buffer = tail + data
            start = position - len(tail)
            offsets.extend(start + m.start() for m in _STREAM_START.finditer(buffer)
                           if start + m.start() not in offsets[-1:])
            tail = buffer[-overlap:]
            position += len(data)
    return offsets


def stream_offsets(dump: Path) -> list[int]:
    """Byte offsets where the dump's bz2 streams start (the first is 0)."""
    size = dump.stat().st_size
    index = index_path(dump)
    offsets = _offsets_from_index(index, size) if index is not None else _offsets_by_scanning(dump)
    if not offsets or offsets[0] != 0:
        offsets = [0, *offsets]
    return offsets


def chunks(dump: Path, chunk_bytes: int | None = None) -> list[tuple[str, int, int]]:
    """(path, start, end) byte ranges of whole streams, about ``chunk_bytes`` (default
    :data:`CHUNK_BYTES`) each, in file order; a single-stream file is one range."""
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    offsets = stream_offsets(dump)
    size = dump.stat().st_size
    bounds = [0]
    for offset in offsets[1:]:
        if offset - bounds[-1] >= chunk_bytes:
            bounds.append(offset)
    bounds.append(size)
    return [(str(dump), a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def namespace(dump: Path) -> bytes:
    """The export namespace named in the dump's first tag."""
    with bz2.open(dump, "rb") as fh:
        head = fh.read(4096)
    found = _NAMESPACE.search(head)
    if not found:
        raise SuperposeError(f"{dump} is not a MediaWiki XML dump (no namespace in its first tag): "
                             "give a *.xml.bz2 dump")
    return found.group(1)


def split_pages(xml: bytes) -> tuple[bytes, bytes, bytes]:
    """(head, body, tail): ``body`` runs from the first ``<page>`` to the end of the last
    ``</page>`` (whole pages), ``head`` and ``tail`` are what lies around it (parts of pages cut by
    a stream boundary, the site header, the closing tag); no page at all: everything is head."""
    first, last = xml.find(b"<page>"), xml.rfind(b"</page>")
    if first < 0 or last < first:
        return xml, b"", b""
    end = last + len(b"</page>")
    return xml[:first], xml[first:end], xml[end:]


def pages_of(fragment: bytes, xmlns: bytes) -> Iterator[str]:
    """Article markup of the whole pages in an XML fragment, redirects skipped."""
    from gensim.corpora.wikicorpus import extract_pages

    _head, body, _tail = split_pages(fragment)
    if not body:
        return
    wrapped = b'<mediawiki xmlns="' + xmlns + b'">' + body + b"</mediawiki>"
    for _title, text, _pageid in extract_pages(io.BytesIO(wrapped)):
        if not text or text.lstrip()[:9].lower() == "#redirect":
            continue
        yield text


def tokenize_chunk(job: tuple[bytes, Callable[[str], str] | None, tuple[str, int, int]]
                   ) -> tuple[bytes, TokenBatch, bytes, bool]:
    """Worker: one range of streams -> (head, its whole pages tokenised, tail, whether it had pages)."""
    xmlns, prepare, chunk = job
    head, body, tail = split_pages(decompress_chunk(chunk))
    try:
        docs = list(pages_of(body, xmlns))
    except Exception as err:  # the XML parser raises its own ParseError type
        if type(err).__name__ != "ParseError":
            raise
        raise SuperposeError(f"{chunk[0]}, bytes {chunk[1]}-{chunk[2]}: not MediaWiki XML ({err}): "
                             "give a *.xml.bz2 dump") from err
    return head, tokenize_batch((prepare, docs)), tail, bool(body)


def token_batches(path: Path, prepare: Callable[[str], str] | None, workers: int,
                  chunk_bytes: int | None = None) -> Iterator[TokenBatch] | None:
    """The dump's pages as token batches in file order, streams decompressed by ``workers``
    processes; ``None`` for a file of one stream (read it sequentially)."""
    ranges = chunks(path, chunk_bytes)
    if len(ranges) < 2:
        return None
    xmlns = namespace(path)

    def batches() -> Iterator[TokenBatch]:
        carry = b""  # the pieces around the last whole page: a page cut by a boundary, or none
        for head, batch, tail, had_pages in ordered_map(tokenize_chunk, ((xmlns, prepare, r) for r in ranges),
                                                         workers):
            carry += head
            if had_pages:
                if carry:
                    yield tokenize_batch((prepare, list(pages_of(carry, xmlns))))
                yield batch
                carry = tail
        if carry:
            yield tokenize_batch((prepare, list(pages_of(carry, xmlns))))

    return batches()


def decompress_chunk(chunk: tuple[str, int, int]) -> bytes:
    """The XML of one range of whole streams (in a worker)."""
    path, start, end = chunk
    with open(path, "rb") as fh:
        fh.seek(start)
        compressed = fh.read(end - start)
    try:
        return bz2.decompress(compressed)
    except (OSError, ValueError, EOFError) as err:
        raise SuperposeError(f"{path}, bytes {start}-{end}: not readable bz2 data ({err}): "
                             "check the file is complete") from err


__all__ = ["CHUNK_BYTES", "chunks", "decompress_chunk", "index_path", "namespace", "pages_of", "split_pages",
           "stream_offsets", "token_batches", "tokenize_chunk"]
