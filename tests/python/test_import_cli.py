"""`mriotrace import ...`: the C++ program hands over to the Python importers (mriotrace.importers)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mriotrace
from mriotrace import readers

from ceads_mrio_fixture import write_ceads_mrio
from conftest import data_dir, require_data

CLI = os.environ.get("MRIOTRACE_CLI") or shutil.which("mriotrace") or str(Path(sys.executable).parent / "mriotrace")
pytestmark = pytest.mark.skipif(not Path(CLI).is_file(), reason=f"the mriotrace program was not found ({CLI})")


def run(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "import", *map(str, args)], capture_output=True, text=True, timeout=120,
                          env=env)


def test_import_china_national(tmp_path):
    require_data("china/nbs/china_2018_153.csv")
    out = tmp_path / "china2018.h5"
    res = run("china-national", "--year", 2018, "--sectors", 153, "--data", data_dir(), "-o", out)
    assert res.returncode == 0, res.stderr
    assert "China 2018 (NBS 153 sectors): 1 region(s) x 153 sectors, CO2 9621.12 Mt" in res.stdout
    s = mriotrace.load(out)
    inv = readers.read_ceads_inventory(require_data("china/ceads/national_1997-2019.xlsx"), 2018)
    assert s.co2.unit["unit"].tolist() == ["Mt CO2"] and s.monetary_unit == "10^4 CNY"
    total = s.co2.F.to_numpy().sum() + s.co2.F_Y.to_numpy().sum()
    assert abs(total - inv.total) <= 1e-9 * inv.total


def test_import_china_national_nearest_year_warns(tmp_path):
    require_data("china/nbs/china_2020_42.csv")
    res = run("china-national", "--year", 2020, "--sectors", 42, "--data", data_dir(), "-o", tmp_path / "c.h5")
    assert res.returncode == 0, res.stderr
    assert "mriotrace: warning: CEADs has no national inventory for 2020: using 2019" in res.stderr


def test_import_ceads_mrio(tmp_path):
    p = tmp_path / "MRIO_2017.xlsx"
    write_ceads_mrio(p, provinces_names=["Henan", "Hunan", "Hainan"], sectors=42)
    inv = require_data("china/ceads/provinces_2017.xlsx")
    res = run("ceads-mrio", p, "--inventory", inv, "-o", tmp_path / "m.h5")
    assert res.returncode == 0, res.stderr
    s = mriotrace.load(tmp_path / "m.h5")
    assert s.get_regions().tolist() == ["Henan", "Hunan", "Hainan"]
    invs = readers.read_ceads_inventory(inv)
    want = sum(invs[p].total for p in ("Henan", "Hunan", "Hainan"))
    assert s.co2.F.to_numpy().sum() + s.co2.F_Y.to_numpy().sum() == pytest.approx(want, rel=1e-12)


def test_import_errors_are_one_line(tmp_path):
    res = run("ceads-mrio", tmp_path / "missing.xlsx", "-o", tmp_path / "m.h5")
    assert res.returncode == 1 and res.stderr.strip() == f"mriotrace: error: {tmp_path / 'missing.xlsx'}: no such file"
    res = run("china-national", "--year", 2018, "--sectors", 99, "-o", tmp_path / "m.h5")
    assert res.returncode == 2 and res.stderr.startswith("mriotrace: error: argument --sectors: invalid choice")
    res = run("--help")
    assert res.returncode == 0 and "china-national" in res.stdout and "ceads-mrio" in res.stdout


def test_import_without_the_python_package(tmp_path):
    env = dict(os.environ, MRIOTRACE_PYTHON=sys.executable, PYTHONNOUSERSITE="1")
    env["PYTHONPATH"] = ""
    fake = tmp_path / "python3"
    # an interpreter that cannot see site-packages: -S drops them
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
    fake.chmod(0o755)
    env["MRIOTRACE_PYTHON"] = str(fake)
    res = run("ceads-mrio", "x.xlsx", "-o", "m.h5", env=env)
    assert res.returncode == 1
    assert res.stderr.strip().startswith("mriotrace: error: the mriotrace Python package is not installed for")
