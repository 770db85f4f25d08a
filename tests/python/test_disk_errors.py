"""A full disk and a read-only folder: every writer (system files, SPA path
files, batch runs) stops with one clear FileError naming the file and the
system's reason, leaves the file that was there intact and readable, and
leaves no temporary debris. (kill -9 of a batch run: test_batch.py.)

The "disks" are small tmpfs mounts, which need root (as in this project's
sandbox and CI); without them the tests are skipped with the reason. A
file-size limit stands in for a full disk in test_batch.py.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest

import mriotrace
import mriotrace.batch as batch
from mriotrace import tracing
from test_batch import write_job


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to stand for a full or read-only disk ({r.stderr.strip()}); "
                    "needs root")


@pytest.fixture()
def small_disk(tmp_path):
    """A 192 kB file system."""
    where = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    _mount_tmpfs(where, "192k")
    yield where
    subprocess.run(["umount", str(where)], check=False)


@pytest.fixture()
def read_only_disk(tmp_path):
    """A folder on a file system remounted read-only, holding good files written before."""
    where = tmp_path / f"ro-{uuid.uuid4().hex[:6]}"
    _mount_tmpfs(where, "4m")
    system = mriotrace.datasets.generate(regions=2, sectors=3, stressors=1, seed=1)
    mriotrace.save(system, where / "system.h5")
    tracing.spa(system, "stressor0", tau=1e-3, max_depth=3, h5=where / "paths.h5")
    r = subprocess.run(["mount", "-o", "remount,ro", str(where)], capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["umount", str(where)], check=False)
        pytest.skip(f"cannot remount the tmpfs read-only ({r.stderr.strip()})")
    yield where
    subprocess.run(["umount", str(where)], check=False)


def _debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def test_full_disk_is_a_clear_error_and_keeps_the_old_files(small_disk, tmp_path):
    small = mriotrace.datasets.generate(regions=2, sectors=3, stressors=1, seed=1)
    big = mriotrace.datasets.generate(regions=8, sectors=40, stressors=2, seed=2)  # ~500 kB
    target = small_disk / "system.h5"
    mriotrace.save(small, target)
    before = target.read_bytes()
    with pytest.raises(mriotrace.FileError, match=r'cannot write ".*system.h5": .*No space left on device'):
        mriotrace.save(big, target)
    assert target.read_bytes() == before and _debris(small_disk) == []
    np.testing.assert_array_equal(mriotrace.load(target).A.to_numpy(), small.A.to_numpy())

    # SPA paths streamed to disk: the search stops at the first failed write.
    paths = small_disk / "paths.h5"
    tracing.spa(small, "stressor0", tau=1e-3, max_depth=3, h5=paths)
    kept = tracing.load_paths(paths)
    with pytest.raises(mriotrace.FileError, match=r'cannot write ".*paths.h5": .*No space left on device'):
        tracing.spa(big, "stressor0", tau=1e-9, max_depth=6, h5=paths)
    assert _debris(small_disk) == []
    assert tracing.load_paths(paths).paths.equals(kept.paths)  # the old file, intact

    # A batch run whose output fills the disk: a FileError naming the file; the results file opens.
    for year, seed in ((2017, 1), (2018, 2)):
        mriotrace.save(mriotrace.datasets.generate(regions=4, sectors=6, stressors=2, seed=seed),
                       tmp_path / f"y{year}.h5")
    job = write_job(tmp_path, draws=400, output=str(small_disk / "out.h5"))
    with pytest.raises(mriotrace.FileError, match=r'".*out.h5(.journal)?".*No space left on device'):
        batch.run(job, progress=False, snapshot_seconds=0)
    partial = batch.load(small_disk / "out.h5")
    assert not partial.complete and 0 < len(partial.items) < 2 * 401 + 1
    assert np.isfinite(partial.draws("D_cba_reg", "stressor0").to_numpy()).all()


def test_read_only_folder_is_a_clear_error_and_keeps_the_old_files(read_only_disk, tmp_path):
    system = mriotrace.datasets.generate(regions=2, sectors=3, stressors=1, seed=1)
    target = read_only_disk / "system.h5"
    before = target.read_bytes()
    with pytest.raises(mriotrace.FileError, match=r'cannot write ".*system.h5": .*Read-only file system'):
        mriotrace.save(mriotrace.datasets.generate(regions=2, sectors=3, stressors=1, seed=9), target)
    assert target.read_bytes() == before
    np.testing.assert_array_equal(mriotrace.load(target).A.to_numpy(), system.A.to_numpy())
    kept = tracing.load_paths(read_only_disk / "paths.h5")
    with pytest.raises(mriotrace.FileError, match=r'cannot write ".*paths.h5": .*Read-only file system'):
        tracing.spa(system, "stressor0", tau=1e-4, max_depth=3, h5=read_only_disk / "paths.h5")
    assert tracing.load_paths(read_only_disk / "paths.h5").paths.equals(kept.paths)
    for year, seed in ((2017, 1), (2018, 2)):
        mriotrace.save(mriotrace.datasets.generate(regions=2, sectors=3, stressors=1, seed=seed),
                       tmp_path / f"y{year}.h5")
    job = write_job(tmp_path, draws=2, output=str(read_only_disk / "out.h5"))
    with pytest.raises(mriotrace.FileError, match=r'".*out.h5.*".*Read-only file system'):
        batch.run(job, progress=False)
    assert sorted(os.listdir(read_only_disk)) == ["paths.h5", "system.h5"]
