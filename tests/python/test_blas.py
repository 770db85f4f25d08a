"""mriotrace._blas: Debian's OpenBLAS kept off its Prescott fallback on capable CPUs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mriotrace import _blas


def test_coretype_follows_the_cpu_flags():
    avx512 = {"avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd", "avx2", "fma", "sse3"}
    assert _blas.coretype_for(frozenset(avx512)) == "SkylakeX"
    assert _blas.coretype_for(frozenset(avx512 - {"avx512bw"})) == "Haswell"  # a partial AVX-512 set is not enough
    assert _blas.coretype_for(frozenset({"avx2", "fma", "sse3"})) == "Haswell"
    assert _blas.coretype_for(frozenset({"avx2", "sse3"})) is None
    assert _blas.coretype_for(frozenset()) is None


def test_cpu_flags_reads_the_first_flags_line(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu avx2 fma\n"
                    "processor\t: 1\nflags\t\t: fpu\n")
    assert _blas.cpu_flags(str(info)) == frozenset({"fpu", "avx2", "fma"})
    assert _blas.cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_a_coretype_the_user_set_is_kept(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert _blas.configure() is None
    assert os.environ["OPENBLAS_CORETYPE"] == "Haswell"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="OpenBLAS core probing is Linux-only")
def test_engine_blas_is_not_on_the_fallback_kernels_of_a_capable_cpu():
    """After `import mriotrace`, the engine's OpenBLAS uses kernels the CPU supports."""
    wanted = _blas.coretype_for(_blas.cpu_flags())
    if wanted is None:
        pytest.skip("this CPU has neither AVX2+FMA nor the SkylakeX AVX-512 set")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    code = ("import ctypes, mriotrace\n"
            "lib = ctypes.CDLL('libopenblas.so.0')\n"
            "lib.openblas_get_corename.restype = ctypes.c_char_p\n"
            "print(lib.openblas_get_corename().decode())\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    core = out.stdout.strip()
    assert core != "Prescott", f"OpenBLAS runs its generic Prescott kernels on a CPU with {wanted}-class features"
