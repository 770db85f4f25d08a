"""Keep Debian's OpenBLAS off its slowest kernels on CPUs it does not recognise.

OpenBLAS (Debian 12 ships 0.3.21, built with DYNAMIC_ARCH) picks its kernels
once, when the library is loaded, from the CPU's model. On CPUs missing from
its table -- virtual machines reporting a generic "Intel Xeon Processor" are
common -- it falls back to "Prescott" (SSE3) kernels even when the CPU has
AVX2 or AVX-512. Measured on such a machine: the dense LU of a 9,800-sector
table took 23.9 s with the fallback and 5.4 s with OPENBLAS_CORETYPE=SkylakeX.

The kernels cannot be changed after loading, so before ``mriotrace._core``
(and with it libopenblas) is loaded, ``configure()`` asks a short-lived
subprocess which core OpenBLAS detects; only when that is the Prescott
fallback and /proc/cpuinfo shows AVX2+FMA (or the AVX-512 set of SkylakeX)
does it set OPENBLAS_CORETYPE for this process. A value the user set is
never changed.
"""

from __future__ import annotations

import os
import subprocess
import sys

# The AVX-512 subsets OpenBLAS's SkylakeX kernels use; Haswell's need AVX2 and FMA.
_SKYLAKEX = frozenset({"avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"})
_HASWELL = frozenset({"avx2", "fma"})
_FALLBACK = "Prescott"  # what OpenBLAS 0.3.x's DYNAMIC_ARCH uses for an unknown x86-64 CPU

_PROBE = (
    "import ctypes, ctypes.util\n"
    "lib = ctypes.CDLL('libopenblas.so.0')\n"
    "lib.openblas_get_corename.restype = ctypes.c_char_p\n"
    "print(lib.openblas_get_corename().decode())\n"
)


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU feature flags of the first processor, or an empty set."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def coretype_for(flags: frozenset[str]) -> str | None:
    """The best OpenBLAS core type the flags safely allow, or None."""
    if _SKYLAKEX <= flags:
        return "SkylakeX"
    if _HASWELL <= flags:
        return "Haswell"
    return None


def detected_core() -> str | None:
    """The core OpenBLAS detects on its own, or None. Asked in an isolated subprocess
    (-I -S: no site-packages, no user paths) so the probe costs one bare interpreter start."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    try:
        out = subprocess.run([sys.executable, "-I", "-S", "-c", _PROBE], env=env, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def configure() -> str | None:
    """Set OPENBLAS_CORETYPE when OpenBLAS would fall back on a capable CPU. Returns what was set."""
    if "OPENBLAS_CORETYPE" in os.environ or not sys.platform.startswith("linux"):
        return None
    better = coretype_for(cpu_flags())
    if better is None or detected_core() != _FALLBACK:
        return None
    os.environ["OPENBLAS_CORETYPE"] = better
    return better
