"""Files that never lie: checksums on everything written (format version 2),
damaged files refused with a clear FileError and never a different number, no
crash or hang on hostile HDF5 metadata (the corrupt-h5 repro files), old files
still open with a warning."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import mriotrace
from test_batch import _cli, need

HERE = Path(__file__).resolve().parent
CORRUPT = HERE.parent / "data" / "corrupt-h5"  # copies of ../shared/repro/corrupt-h5
sys.path.insert(0, str(HERE.parent / "reliability"))
import byte_flip  # noqa: E402


@pytest.fixture()
def small(tmp_path) -> Path:
    path = tmp_path / "small.h5"
    mriotrace.save(mriotrace.datasets.generate(regions=3, sectors=4, stressors=2, seed=1), path)
    return path


def test_every_dataset_is_checksummed_and_the_format_is_version_2(small):
    assert mriotrace.inspect(small)["format_version"] == 2
    with h5py.File(small, "r") as f:
        assert f.attrs["format_version"] == 2
        datasets = []
        f.visititems(lambda n, o: datasets.append(o) if isinstance(o, h5py.Dataset) else None)
        nonempty = [d for d in datasets if d.size > 0]
        assert len(nonempty) >= 10
        assert all(d.fletcher32 for d in nonempty), [d.name for d in nonempty if not d.fletcher32]
        assert f["system/labels/regions"].asstr()[()].tolist() == ["R0", "R1", "R2"]


def test_byte_flips_never_change_a_number(small):
    # Every 5th byte of a 7 kB file (the full run, every byte, is in docs/reliability.md).
    report = byte_flip.run(small, step=5)
    assert report["flips"] > 1000
    assert report["different"] == 0, report
    assert report["refused"] > 0.8 * report["flips"]
    assert report["identical"] + report["refused"] == report["flips"]


def test_a_flipped_data_byte_is_a_checksum_error(small, tmp_path):
    with h5py.File(small, "r") as f:
        ds = f["system/Y"]
        offset = ds.id.get_chunk_info(0).byte_offset
    data = bytearray(small.read_bytes())
    data[offset + 3] ^= 0x01
    bad = tmp_path / "bad.h5"
    bad.write_bytes(data)
    with pytest.raises(mriotrace.FileError, match=r"/system/Y failed: its checksum does not match"):
        mriotrace.load(bad)


@pytest.mark.parametrize("name,message", [
    ("segv.h5", r"crashed the HDF5 library \(SIGSEGV\)"),
    ("original.h5", r"crashed the HDF5 library \(SIGSEGV\)"),
    # HDF5 overruns a heap buffer here; whether the child then crashes or
    # returns garbage labels depends on the heap's layout: both are refused.
    ("heap-corruption.h5", r"crashed the HDF5 library \(SIG|is not UTF-8 text: the file is damaged"),
    ("endless-loop.h5", r"did not finish within 3 s"),
    ("8gb-memory.h5", r"out of memory"),
    ("bad-alloc.h5", r"needs more than"),
])
def test_hostile_metadata_never_crashes_or_hangs(name, message, monkeypatch):
    # HDF5 1.10 crashes, corrupts its heap, loops or allocates gigabytes on
    # these one-byte-damaged files: the guarded child takes the hit, this
    # process reports it and goes on.
    monkeypatch.setenv("MRIOTRACE_HDF5_GUARD_SECONDS", "3")
    path = CORRUPT / name
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # format version 1: "before files carried checksums"
        with pytest.raises((OSError, ValueError), match=message) as err:
            mriotrace.load(path)
        assert name in str(err.value)
        try:
            mriotrace.inspect(path)  # labels only: may pass, must not crash
        except (OSError, ValueError):
            pass
    assert time.time() - t0 < 20
    exe = need(_cli(), "the mriotrace program was not found (set MRIOTRACE_CLI)")
    for command in (["info", str(path)], ["footprint", str(path), "-o", str(path.name) + ".csv"]):
        res = subprocess.run([exe, *command], capture_output=True, text=True, errors="replace", timeout=60,
                             cwd=tempfile.gettempdir(),
                             env={**os.environ, "MRIOTRACE_HDF5_GUARD_SECONDS": "3"})
        if command[0] == "info" and res.returncode == 0:
            continue  # labels only
        assert res.returncode == 1, (command, res.returncode, res.stderr)
        assert res.stderr.strip().splitlines()[-1].startswith("mriotrace: error: "), res.stderr


def write_old_layout(src_path: Path, old: Path, *, format_version: int | None, drop_attrs=()) -> None:
    """Copy a file into the layout mriotrace wrote before checksums: the
    earliest HDF5 format, variable-length strings, no filters (h5py writes
    exactly that); root format_version set to `format_version` (None: kept),
    group attributes named in `drop_attrs` left out."""
    def text(v):
        return v.decode() if isinstance(v, bytes) else v

    with h5py.File(src_path, "r") as src, h5py.File(old, "w", libver="earliest") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = text(v)
        if format_version is not None:
            dst.attrs["format_version"] = np.int64(format_version)

        def copy(name, obj):
            if isinstance(obj, h5py.Group):
                g = dst.require_group(name)
                for k, v in obj.attrs.items():
                    if k not in drop_attrs:
                        g.attrs[k] = text(v)
            else:
                if obj.dtype.kind == "S":
                    d = dst.create_dataset(name, data=obj.asstr()[()].astype(object), dtype=h5py.string_dtype())
                else:
                    d = dst.create_dataset(name, data=obj[()])
                for k, v in obj.attrs.items():
                    d.attrs[k] = v
        src.visititems(copy)


def test_old_files_open_with_a_warning(small, tmp_path):
    # A format-1 file as mriotrace wrote it before checksums.
    old = tmp_path / "old.h5"
    write_old_layout(small, old, format_version=1)
    with pytest.warns(UserWarning, match="format version 1, before files carried checksums"):
        s_old = mriotrace.load(old)
    s_new = mriotrace.load(small)
    assert list(s_old.regions) == list(s_new.regions)
    np.testing.assert_array_equal(s_old.A.to_numpy(), s_new.A.to_numpy())
    exe = need(_cli(), "the mriotrace program was not found (set MRIOTRACE_CLI)")
    res = subprocess.run([exe, "info", str(old)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "mriotrace: warning:" in res.stderr and "format version  1" in res.stdout
    # Saving it again adds the checksums.
    mriotrace.save(s_old, tmp_path / "resaved.h5")
    assert mriotrace.inspect(tmp_path / "resaved.h5")["format_version"] == 2


# --- batch results files and SPA path files -----------------------------------------------

import mriotrace.batch as batch  # noqa: E402
from mriotrace import tracing  # noqa: E402


@pytest.fixture()
def batch_file(tmp_path) -> Path:
    return byte_flip.sample("batch", tmp_path)


@pytest.fixture()
def path_file(tmp_path) -> Path:
    return byte_flip.sample("paths", tmp_path)


batch_fingerprint = byte_flip.batch_fingerprint
path_fingerprint = byte_flip.path_fingerprint


def test_batch_file_is_checksummed_and_read_by_the_cpp_reader(batch_file, tmp_path):
    with h5py.File(batch_file, "r") as f:
        assert f.attrs["format"] == b"mriotrace-batch" and f.attrs["format_version"] == 2
        datasets = []
        f.visititems(lambda n, o: datasets.append(o) if isinstance(o, h5py.Dataset) else None)
        nonempty = [d for d in datasets if d.size > 0]
        assert len(nonempty) >= 20
        assert all(d.fletcher32 for d in nonempty), [d.name for d in nonempty if not d.fletcher32]
        d_cba = f["results/D_cba_reg"][()]
        offset = f["results/D_cba_reg"].id.get_chunk_info(0).byte_offset
    r = batch.load(batch_file)
    assert r.attrs["format_version"] == 2 and r.complete
    # The bound reader gives the stored numbers, bit for bit.
    rows = r.items.index.get_indexer(r._grid_rows().index)
    np.testing.assert_array_equal(r.draws("D_cba_reg", "stressor0").to_numpy(), d_cba[rows, 0])
    # A flipped data byte: a FileError naming the file and the dataset.
    data = bytearray(batch_file.read_bytes())
    data[offset + 5] ^= 0x01
    bad = tmp_path / "bad.h5"
    bad.write_bytes(data)
    with pytest.raises(mriotrace.FileError, match=r'bad.h5": reading /results/D_cba_reg failed: its checksum does '
                                                  r"not match"):
        batch.load(bad)
    # The same reader refuses it as the input of a merge (the command line and Python).
    with pytest.raises(mriotrace.FileError, match="/results/D_cba_reg failed: its checksum"):
        batch.merge([bad], tmp_path / "merged.h5")
    with pytest.raises(mriotrace.FileError, match="not an mriotrace batch results file"):
        batch.load(tmp_path / "y2017.h5")


def test_batch_file_byte_flips_never_change_a_number(batch_file):
    # ~500 of its ~40 kB (the full run, every byte, is in docs/reliability.md).
    report = byte_flip.run(batch_file, step=max(1, batch_file.stat().st_size // 500),
                           fingerprint=batch_fingerprint)
    assert report["flips"] >= 450
    assert report["different"] == 0, report
    assert report["refused"] > 0.8 * report["flips"], report
    assert report["identical"] + report["refused"] == report["flips"]


def test_path_file_byte_flips_never_change_a_number(path_file):
    r = tracing.load_paths(path_file)
    assert r.paths_found == len(r.paths) > 10 and r.coverage > 0.5
    report = byte_flip.run(path_file, step=max(1, path_file.stat().st_size // 500), fingerprint=path_fingerprint)
    assert report["flips"] >= 450
    assert report["different"] == 0, report
    assert report["refused"] > 0.8 * report["flips"], report


def test_path_file_round_trips_the_search(tmp_path):
    system = mriotrace.datasets.generate(regions=3, sectors=4, stressors=1, seed=5)
    live = tracing.spa(system, "stressor0", tau=1e-4, max_depth=5, keep=0, h5=tmp_path / "p.h5")
    back = tracing.load_paths(tmp_path / "p.h5")
    assert back.paths_found == live.paths_found == len(back.paths)
    assert back.total == live.total and back.threshold == live.threshold and back.coverage == live.coverage
    # Search order in the file, best-first in memory: the same set of paths and values.
    a = back.paths.sort_values(["value", "nodes"], ascending=[False, True]).reset_index(drop=True)
    b = live.paths.sort_values(["value", "nodes"], ascending=[False, True]).reset_index(drop=True)
    assert list(a["nodes"]) == list(b["nodes"]) and list(a["path"]) == list(b["path"])
    np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())
    np.testing.assert_array_equal(back.coverage_by_depth.to_numpy(), live.coverage_by_depth.to_numpy())
    with pytest.raises(mriotrace.FileError, match="/tracing/spa is missing"):
        tracing.load_paths(_system_file(tmp_path))


def _system_file(tmp_path: Path) -> Path:
    p = tmp_path / "system.h5"
    mriotrace.save(mriotrace.datasets.generate(regions=2, sectors=2, stressors=1, seed=1), p)
    return p


def test_old_batch_and_path_files_open_with_a_warning(batch_file, path_file, tmp_path):
    old = tmp_path / "old-batch.h5"
    write_old_layout(batch_file, old, format_version=1)
    with pytest.warns(UserWarning, match="format version 1, before batch files carried checksums"):
        fp_old = batch_fingerprint(old)
    fp_new = batch_fingerprint(batch_file)
    assert fp_old[1:] == fp_new[1:]  # all but the attributes (format_version 1 vs 2)
    # Merging rewrites it with checksums.
    with pytest.warns(UserWarning, match="before batch files carried checksums"):
        batch.merge([old], tmp_path / "rewritten.h5")
    assert batch_fingerprint(tmp_path / "rewritten.h5") == fp_new
    # A path file from before: no spa_format_version, no filters.
    old_paths = tmp_path / "old-paths.h5"
    write_old_layout(path_file, old_paths, format_version=None, drop_attrs=("spa_format_version",))
    with pytest.warns(UserWarning, match="paths written before path files carried checksums"):
        assert path_fingerprint(old_paths) == path_fingerprint(path_file)
