"""mriotrace: environmentally-extended multi-regional input-output analysis.

A C++20 engine (``mriotrace._core``) with pymrio's names and layouts on top::

    import mriotrace
    system = mriotrace.datasets.china_demo()      # China 2018, 153 sectors: REAL data, shipped
    system.calc_all()                             # one factorisation, no inverse
    system.stressors.D_cba_reg                    # stressors x regions

Main entry points: :class:`MRIOSystem`, :func:`from_pymrio`, :func:`load`,
:func:`save`, :func:`load_results` (results files: footprint, scenario, spa, batch), :func:`read_useeio`, :func:`read_exiobase3`, :mod:`mriotrace.datasets`,
:mod:`mriotrace.math`, :mod:`mriotrace.tracing`. Errors: ValueError (bad input; mriotrace.InputError),
RuntimeError (singular or non-productive system; mriotrace.NumericError),
OSError (bad files; mriotrace.FileError).
"""

from . import _blas

_blas.configure()  # before _core loads OpenBLAS: see _blas.py

from . import _core  # noqa: E402
from ._core import FileError, InputError, NumericError
from . import batch, concordance, datasets, export, math, readers, results, sda, tracing
from .characterization import characterize
from .footprint_split import footprint_by_category, footprint_by_product
from .global_readers import (ExiobaseTable, read_eora26, read_exiobase3, read_exiobase3_table, read_figaro, read_gloria,
                             read_oecd_icio)
from .io import UseeioModel, file_kind, inspect, load, load_results, read_useeio, save, save_results
from .pymrio_compat import from_pymrio, to_pymrio
from .scenario import (Scenario, ScenarioFile, ScenarioResult, apply_scenario, operation_parameters, parse_scenarios,
                       read_scenarios, run_scenarios)
from .system import Extension, MRIOSystem

__version__ = _core.__version__

for _exc in (InputError, NumericError, FileError):
    _exc.__module__ = __name__  # shown as mriotrace.FileError, not mriotrace._core.FileError
del _exc

__all__ = [
    "MRIOSystem", "Extension", "from_pymrio", "to_pymrio", "load", "save", "inspect", "read_useeio",
    "load_results", "save_results", "file_kind", "results", "export",
    "UseeioModel", "datasets", "readers", "concordance", "math", "tracing", "batch", "sda", "InputError", "NumericError", "FileError", "__version__",
    "Scenario", "ScenarioFile", "ScenarioResult", "run_scenarios", "read_scenarios", "parse_scenarios", "apply_scenario",
    "operation_parameters", "read_exiobase3", "read_exiobase3_table", "ExiobaseTable",
    "read_oecd_icio", "read_gloria", "read_eora26", "read_figaro",
    "characterize", "footprint_by_category", "footprint_by_product",
]
