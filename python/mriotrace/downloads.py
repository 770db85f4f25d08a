"""Download the published databases into a user cache: ``mriotrace datasets fetch NAME [--year Y]``.

The names, addresses, years and checksums are in one data file shipped with
the package, ``mriotrace/data/registry.toml`` (:func:`registry`). A download

- goes to the cache folder (:func:`cache_dir`: ``$MRIOTRACE_CACHE``, else the
  platform's user cache folder, ``$XDG_CACHE_HOME/mriotrace`` or
  ``~/.cache/mriotrace`` on Linux), as ``<cache>/<name>/<filename>``;
- is written to ``<filename>.part`` first and resumed from where it stopped
  (an HTTP ``Range`` request) after a dropped connection, within one call
  (``retries``) or in the next one;
- is checked against the registry's SHA-256; where the registry has none, the
  first download's SHA-256 is recorded beside the file (``<filename>.sha256``)
  and later uses are checked against it (verified on first download: said in
  a warning, never passed off as a published checksum);
- is a cache hit the next time (no request at all) when the file is there and
  matches its checksum. A file that fails its checksum is deleted, never kept
  as a cache hit.

Downloader: requests (streamed GETs, ``Range`` headers) with a tqdm progress
bar. pooch, the usual choice, verifies checksums but cannot resume: it
discards a partial file, and the databases here are 0.5-1.5 GB.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ._core import FileError, InputError
from ._util import cli_parser

try:  # Python >= 3.11
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CHUNK = 1 << 20  # hashing
NET_CHUNK = 1 << 16  # a dropped connection loses at most the chunk being read
_REGISTRY_FILE = Path(__file__).resolve().parent / "data" / "registry.toml"


class ChecksumError(InputError):
    """A downloaded (or cached) file whose SHA-256 differs from the expected one."""


@dataclass
class Entry:
    """One database of the registry (see registry.toml for the fields)."""

    name: str
    title: str
    url: str
    filename: str
    page: str = ""
    licence: str = ""
    years: list = field(default_factory=list)  # [] for a single file
    sha256: dict = field(default_factory=dict)  # "2011" or "file" -> hex digest
    reader: str = ""
    note: str = ""

    def key(self, year) -> str:
        return "file" if not self.years else str(year)


def _years(spec, name: str, source) -> list[int]:
    """"1995-2022", [2011, 2012] or absent."""
    if spec is None:
        return []
    if isinstance(spec, str):
        m = re.fullmatch(r"\s*(\d{4})\s*-\s*(\d{4})\s*", spec)
        if not m or int(m[1]) > int(m[2]):
            raise InputError(f"{source}: [{name}] years = {spec!r}; expected \"YYYY-YYYY\" or a list of years")
        return list(range(int(m[1]), int(m[2]) + 1))
    if isinstance(spec, list) and all(isinstance(y, int) for y in spec):
        return list(spec)
    raise InputError(f"{source}: [{name}] years = {spec!r}; expected \"YYYY-YYYY\" or a list of years")


def registry(path=None) -> dict[str, Entry]:
    """The registry: name -> :class:`Entry`, from `path` (a TOML file) or the shipped one."""
    source = Path(path) if path is not None else _REGISTRY_FILE
    try:
        with open(source, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise FileError(f"{source}: no such registry file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not a valid TOML registry ({exc})") from None
    out = {}
    for name, t in raw.items():
        if not isinstance(t, dict):
            raise InputError(f"{source}: {name!r} is not a table; expected [{name}] with url and filename")
        missing = [k for k in ("title", "url", "filename") if k not in t]
        if missing:
            raise InputError(f"{source}: [{name}] has no {', '.join(missing)}")
        sums = {str(k): str(v).lower() for k, v in (t.get("sha256") or {}).items()}
        for k, v in sums.items():
            if not re.fullmatch(r"[0-9a-f]{64}", v):
                raise InputError(f"{source}: [{name}.sha256] {k} = {v!r} is not a SHA-256 (64 hex digits)")
        out[name] = Entry(name=name, title=t["title"], url=t["url"], filename=t["filename"], page=t.get("page", ""),
                          licence=t.get("licence", ""), years=_years(t.get("years"), name, source), sha256=sums,
                          reader=t.get("reader", ""), note=t.get("note", ""))
    return out


def cache_dir(cache=None) -> Path:
    """`cache`, else $MRIOTRACE_CACHE, else the user cache folder (platformdirs: ~/.cache/mriotrace on Linux)."""
    if cache is not None:
        return Path(cache)
    if os.environ.get("MRIOTRACE_CACHE"):
        return Path(os.environ["MRIOTRACE_CACHE"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("mriotrace", appauthor=False))


def sha256_of(path, chunk: int = CHUNK) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _entry(name: str, reg: dict[str, Entry]) -> Entry:
    if name not in reg:
        raise InputError(f"unknown database {name!r}; known: {', '.join(sorted(reg))}")
    return reg[name]


def _year(entry: Entry, year):
    if not entry.years:
        if year is not None:
            raise InputError(f"{entry.name} is one file for all years; leave out the year (got {year!r})")
        return None
    if year is None:
        raise InputError(f"{entry.name} needs a year: one of {entry.years[0]}-{entry.years[-1]}")
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise InputError(f"{entry.name}: year {year!r} is not a year; expected one of "
                         f"{entry.years[0]}-{entry.years[-1]}") from None
    if y not in entry.years:
        raise InputError(f"{entry.name} has no year {y}; it has {entry.years[0]}-{entry.years[-1]}")
    return y


def _fill(template: str, year) -> str:
    return template.replace("{year}", "" if year is None else str(year))


def _expected(entry: Entry, year, recorded: Path) -> tuple[str | None, str]:
    """(expected SHA-256 or None, where it comes from)."""
    published = entry.sha256.get(entry.key(year))
    if published:
        return published, "the registry"
    if recorded.is_file():
        return recorded.read_text().split()[0].lower(), f"the first download ({recorded})"
    return None, ""


def fetch(name: str, year=None, *, cache=None, registry_file=None, retries: int = 3, progress: bool = True,
          timeout: float = 60.0) -> Path:
    """Download database `name` (of `year`) into the cache, or find it there; returns the file's path.

    name: a registry name (:func:`registry`; an unknown name is an InputError
    listing the known ones). year: required for databases published per year.
    cache: the cache folder (default :func:`cache_dir`). registry_file: another
    registry TOML (tests, mirrors). retries: how many times a dropped
    connection is resumed within this call. Raises :class:`ChecksumError`
    (an InputError) naming the file, the expected and the received SHA-256,
    and FileError when the download fails (the partial file is kept, and the
    next call resumes it).
    """
    import requests

    reg = registry(registry_file)
    entry = _entry(name, reg)
    y = _year(entry, year)
    folder = cache_dir(cache) / entry.name
    dest = folder / _fill(entry.filename, y)
    part = dest.with_name(dest.name + ".part")
    recorded = dest.with_name(dest.name + ".sha256")
    url = _fill(entry.url, y)

    expected, origin = _expected(entry, y, recorded)
    if dest.is_file():
        got = sha256_of(dest)
        if expected is None or got == expected:
            if expected is None:  # cached before a checksum was recorded (e.g. copied in by hand)
                recorded.write_text(f"{got}  {dest.name}\n")
            return dest
        dest.unlink()  # a damaged cache entry is never a hit: download again
        warnings.warn(f"cached {dest} failed its checksum (expected {expected} from {origin}, got {got}); "
                      f"downloading it again", stacklevel=2)

    folder.mkdir(parents=True, exist_ok=True)
    attempt = 0
    while True:
        try:
            _download(requests, url, part, progress=progress, timeout=timeout, label=dest.name)
            break
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            if attempt >= retries:
                have = part.stat().st_size if part.exists() else 0
                raise FileError(f"downloading {name} from {url} failed after {attempt + 1} attempt(s): "
                                f"{type(exc).__name__}: {exc}; {have} bytes kept in {part}, run again to resume"
                                ) from None
            attempt += 1
        except requests.HTTPError as exc:
            raise FileError(f"downloading {name} from {url}: {exc}") from None

    got = sha256_of(part)
    if expected is not None and got != expected:
        part.unlink()  # not left behind as a cache hit, nor resumed from
        raise ChecksumError(f"{dest.name} (downloaded from {url}) failed its checksum: expected SHA-256 {expected} "
                            f"(from {origin}), got {got}; the file was deleted")
    os.replace(part, dest)
    if expected is None:
        recorded.write_text(f"{got}  {dest.name}\n")
        warnings.warn(f"{entry.name}: the registry has no published checksum for {dest.name}; its SHA-256 {got} "
                      f"is recorded in {recorded} and checked from now on (verified on first download)",
                      stacklevel=2)
    return dest


def _download(requests, url: str, part: Path, *, progress: bool, timeout: float, label: str) -> None:
    """GET `url` into `part`, resuming from part's size with a Range request."""
    from tqdm.auto import tqdm

    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with requests.get(url, headers=headers, stream=True, timeout=timeout) as r:
        if r.status_code == 416 and have:  # nothing left to send: the part file may be complete
            total = _content_range_total(r.headers.get("Content-Range", ""))
            if total == have:
                return
            have = 0  # the server's file changed: start again
            part.unlink()
            return _download(requests, url, part, progress=progress, timeout=timeout, label=label)
        r.raise_for_status()
        if have and r.status_code == 206:
            start = _content_range_start(r.headers.get("Content-Range", ""))
            if start != have:
                raise requests.ConnectionError(f"server resumed at byte {start}, not {have}")
            mode = "ab"
        else:  # 200: the server ignored the Range header; start again
            have, mode = 0, "wb"
        length = r.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        with open(part, mode) as f, tqdm(total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                                          desc=label, disable=not progress, leave=False) as bar:
            for block in r.iter_content(NET_CHUNK):
                f.write(block)
                bar.update(len(block))


def _content_range_start(value: str):
    m = re.match(r"bytes (\d+)-", value)
    return int(m[1]) if m else None


def _content_range_total(value: str):
    m = re.search(r"/(\d+)$", value)
    return int(m[1]) if m else None


# ------------------------------------------------------------------ CLI
_Parser = cli_parser("datasets")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mriotrace datasets", description="The published databases: list them, download one")
    sub = p.add_subparsers(dest="what", required=True, parser_class=_Parser)
    f = sub.add_parser("fetch", help="download a database into the cache (resumable, checksummed)")
    f.add_argument("name", help="registry name (see mriotrace datasets list)")
    f.add_argument("--year", default=None, help="year, for databases published per year")
    f.add_argument("--cache", default=None, help="cache folder (default $MRIOTRACE_CACHE or the user cache folder)")
    f.add_argument("--registry", default=None, help="another registry TOML file (default: the shipped one)")
    f.add_argument("--retries", type=int, default=3, help="resumes after a dropped connection (default 3)")
    f.add_argument("--quiet", action="store_true", help="no progress bar")
    ls = sub.add_parser("list", help="the registry's databases")
    ls.add_argument("--registry", default=None, help="another registry TOML file")
    return p


def main(argv=None) -> int:
    """``mriotrace datasets fetch|list``; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.what == "list":
            for name, e in sorted(registry(args.registry).items()):
                years = f" [{e.years[0]}-{e.years[-1]}]" if e.years else ""
                print(f"{name}{years}: {e.title} ({e.licence}; {e.page})")
            return 0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            path = fetch(args.name, args.year, cache=args.cache, registry_file=args.registry, retries=args.retries,
                         progress=not args.quiet)
        for w in caught:
            sys.stderr.write(f"mriotrace: warning: {w.message}\n")
        print(path)
        return 0
    except (InputError, FileError) as exc:
        sys.stderr.write(f"mriotrace: error: {' '.join(str(exc).split())}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
