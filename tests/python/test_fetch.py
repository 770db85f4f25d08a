"""mriotrace.datasets.fetch against a local HTTP server on 127.0.0.1 (Range support, dropped connections).

Nothing here leaves the machine: the registry used is written by the test and
points at the server the test starts.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import subprocess
import threading

import pytest

import mriotrace
from mriotrace import downloads

PAYLOAD = {f"/files/demo_{y}.zip": bytes((i * 7 + y) % 251 for i in range(300_000)) for y in (2010, 2011)}
PAYLOAD["/files/all.zip"] = b"one file for every year " * 5000


class Server:
    """Serves PAYLOAD; `drop` = paths whose next full response is cut halfway (then the connection closed)."""

    def __init__(self):
        self.requests: list[tuple[str, str | None]] = []
        self.drop: set[str] = set()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                outer.requests.append((self.path, rng))
                body = PAYLOAD.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if rng:
                    m = re.fullmatch(r"bytes=(\d+)-", rng)
                    start = int(m[1])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                rest = body[start:]
                self.send_header("Content-Length", str(len(rest)))
                self.end_headers()
                if self.path in outer.drop and not rng:
                    outer.drop.discard(self.path)
                    self.wfile.write(rest[: len(rest) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(rest)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    s = Server()
    yield s
    s.close()


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture()
def registry(tmp_path, server):
    base = f"http://127.0.0.1:{server.port}/files"
    p = tmp_path / "registry.toml"
    p.write_text(f'''
[demo]
title = "demo database"
url = "{base}/demo_{{year}}.zip"
filename = "demo_{{year}}.zip"
years = "2010-2011"
[demo.sha256]
2010 = "{sha(PAYLOAD['/files/demo_2010.zip'])}"
2011 = "{sha(PAYLOAD['/files/demo_2011.zip'])}"

[bad]
title = "a registry entry with the wrong checksum"
url = "{base}/demo_2011.zip"
filename = "bad.zip"
[bad.sha256]
file = "{'0' * 64}"

[unlisted]
title = "no published checksum"
url = "{base}/all.zip"
filename = "all.zip"
''')
    return p


def fetch(name, year=None, **kw):
    kw.setdefault("progress", False)
    return mriotrace.datasets.fetch(name, year, **kw)


def test_download_then_cache_hit(tmp_path, server, registry):
    cache = tmp_path / "cache"
    path = fetch("demo", 2011, cache=cache, registry_file=registry)
    assert path == cache / "demo" / "demo_2011.zip"
    assert path.read_bytes() == PAYLOAD["/files/demo_2011.zip"]
    assert server.requests == [("/files/demo_2011.zip", None)]
    assert not (cache / "demo" / "demo_2011.zip.part").exists()
    again = fetch("demo", "2011", cache=cache, registry_file=registry)
    assert again == path and len(server.requests) == 1  # cache hit: no second request


def test_cache_folder_from_environment(tmp_path, server, registry, monkeypatch):
    monkeypatch.setenv("MRIOTRACE_CACHE", str(tmp_path / "envcache"))
    assert downloads.cache_dir() == tmp_path / "envcache"
    assert fetch("demo", 2010, registry_file=registry) == tmp_path / "envcache" / "demo" / "demo_2010.zip"
    monkeypatch.delenv("MRIOTRACE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert downloads.cache_dir() == tmp_path / "xdg" / "mriotrace"  # platformdirs on Linux


def test_checksum_mismatch_names_file_expected_and_got(tmp_path, server, registry):
    cache = tmp_path / "cache"
    with pytest.raises(downloads.ChecksumError) as err:
        fetch("bad", cache=cache, registry_file=registry)
    msg = str(err.value)
    assert "bad.zip" in msg and "0" * 64 in msg and sha(PAYLOAD["/files/demo_2011.zip"]) in msg
    assert isinstance(err.value, mriotrace.InputError)
    assert not (cache / "bad" / "bad.zip").exists() and not (cache / "bad" / "bad.zip.part").exists()
    with pytest.raises(downloads.ChecksumError):  # not a cache hit: downloaded again
        fetch("bad", cache=cache, registry_file=registry)
    assert len(server.requests) == 2


def test_interrupted_download_resumes(tmp_path, server, registry):
    cache = tmp_path / "cache"
    body = PAYLOAD["/files/demo_2010.zip"]
    server.drop.add("/files/demo_2010.zip")
    with pytest.raises(mriotrace.FileError, match="run again to resume"):
        fetch("demo", 2010, cache=cache, registry_file=registry, retries=0)
    part = cache / "demo" / "demo_2010.zip.part"
    kept = part.stat().st_size  # what arrived, less at most the 64 KiB chunk being read
    assert len(body) // 2 - downloads.NET_CHUNK <= kept <= len(body) // 2 and kept > 0
    path = fetch("demo", 2010, cache=cache, registry_file=registry)  # the next call resumes
    assert path.read_bytes() == body
    assert server.requests[-1] == ("/files/demo_2010.zip", f"bytes={kept}-")
    assert not part.exists()


def test_dropped_connection_resumed_within_one_call(tmp_path, server, registry):
    body = PAYLOAD["/files/demo_2011.zip"]
    server.drop.add("/files/demo_2011.zip")
    path = fetch("demo", 2011, cache=tmp_path, registry_file=registry, retries=1)
    assert path.read_bytes() == body
    assert len(server.requests) == 2 and server.requests[0] == ("/files/demo_2011.zip", None)
    start = int(server.requests[1][1][len("bytes="):-1])
    assert 0 < start <= len(body) // 2  # resumed, not started again


def test_verified_on_first_download(tmp_path, server, registry):
    with pytest.warns(UserWarning, match="no published checksum.*verified on first download"):
        path = fetch("unlisted", cache=tmp_path, registry_file=registry)
    recorded = path.with_name("all.zip.sha256")
    assert recorded.read_text().split()[0] == sha(PAYLOAD["/files/all.zip"])
    path.write_bytes(b"damaged")  # a damaged cache entry is not a hit: downloaded again
    with pytest.warns(UserWarning, match="failed its checksum"):
        again = fetch("unlisted", cache=tmp_path, registry_file=registry)
    assert again.read_bytes() == PAYLOAD["/files/all.zip"] and len(server.requests) == 2


def test_unknown_name_and_bad_years(tmp_path, registry):
    with pytest.raises(mriotrace.InputError, match=r"unknown database 'nope'; known: bad, demo, unlisted"):
        fetch("nope", registry_file=registry, cache=tmp_path)
    with pytest.raises(mriotrace.InputError, match=r"demo needs a year: one of 2010-2011"):
        fetch("demo", registry_file=registry, cache=tmp_path)
    with pytest.raises(mriotrace.InputError, match=r"demo has no year 2030; it has 2010-2011"):
        fetch("demo", 2030, registry_file=registry, cache=tmp_path)
    with pytest.raises(mriotrace.InputError, match=r"one file for all years"):
        fetch("bad", 2011, registry_file=registry, cache=tmp_path)


def test_shipped_registry():
    reg = downloads.registry()
    assert {"exiobase3-ixi", "exiobase3-pxp", "wiod2016", "wiod2016-co2"} <= set(reg)
    e = reg["exiobase3-ixi"]
    assert e.years[0] == 1995 and e.licence == "CC BY-SA 4.0" and "{year}" in e.url
    assert reg["wiod2016"].licence == "CC BY 4.0" and reg["wiod2016"].years == []
    for entry in reg.values():  # addresses of the publishers, never a local or made-up host
        assert entry.url.startswith("https://") and entry.page.startswith("https://")


def test_cli_fetch(tmp_path, server, registry):
    cache = tmp_path / "cache"
    r = subprocess.run(["mriotrace", "datasets", "fetch", "demo", "--year", "2011", "--registry", str(registry),
                        "--cache", str(cache), "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(cache / "demo" / "demo_2011.zip")
    r = subprocess.run(["mriotrace", "datasets", "fetch", "nope", "--registry", str(registry), "--cache", str(cache)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip() == "mriotrace: error: unknown database 'nope'; known: bad, demo, unlisted"
    r = subprocess.run(["mriotrace", "datasets", "list"], capture_output=True, text=True)
    assert r.returncode == 0 and "wiod2016: " in r.stdout and "CC BY 4.0" in r.stdout
