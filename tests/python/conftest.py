"""Shared fixtures of the Python tests.

Reference data (../shared/data beside the project, or $MRIOTRACE_DATA) is
never copied into the repository. Without it, tests that need it are skipped
with a message naming the folder, except under CI (CI=true), where a missing
folder fails them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import mriotrace

REPO = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """$MRIOTRACE_DATA, else <repo>/../shared/data."""
    env = os.environ.get("MRIOTRACE_DATA")
    return Path(env) if env else (REPO.parent / "shared" / "data")


def require_data(relative: str) -> Path:
    """Path of a reference file/folder; skip (or fail under CI=true) when absent."""
    path = data_dir() / relative
    if not path.exists():
        msg = (f"reference data {path} not found (set MRIOTRACE_DATA or put the shared data folder at "
               f"{data_dir()})")
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; under CI=true the reference data is required")
        pytest.skip(msg)
    return path


def assert_close(ours, theirs, rtol: float = 1e-9, what: str = "") -> float:
    """Entry-wise |ours - theirs| <= rtol |theirs| + atol, atol = rtol * 1e-3 * max|row of theirs|.

    The floor is per row because each row is one stressor in its own unit;
    1e-3 of the row's largest entry times rtol is far below any entry that
    matters, yet lets entries that are exactly 0 in one implementation and
    ~1e-17 x scale in the other (round-off of cancelling sums) pass. Returns
    the largest relative difference over entries with theirs != 0.
    """
    a = np.asarray(ours, dtype=float)
    b = np.asarray(theirs, dtype=float)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    b2 = b.reshape(b.shape[0], -1) if b.ndim > 1 else b.reshape(1, -1)
    row_scale = np.abs(b2).max(axis=1, keepdims=True) if b2.size else np.zeros((b2.shape[0], 1))
    atol = (rtol * 1e-3 * row_scale * np.ones_like(b2)).reshape(b.shape)
    diff = np.abs(a - b)
    bad = diff > rtol * np.abs(b) + atol
    assert not bad.any(), (f"{what}: {int(bad.sum())} entries differ; worst |ours - theirs| = "
                           f"{diff.max():.3e} at {np.unravel_index(np.argmax(diff), diff.shape)}")
    nz = b != 0
    return float((diff[nz] / np.abs(b[nz])).max()) if nz.any() else 0.0


@pytest.fixture(scope="session")
def small_system() -> mriotrace.MRIOSystem:
    """4 regions x 6 sectors, 2 categories, 3 stressors, F_Y and v present."""
    return mriotrace.datasets.generate(regions=4, sectors=6, fd_categories=2, stressors=3, seed=7)
