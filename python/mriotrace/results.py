"""Results as labelled tables: accounts and scenario accounts from files or from calc_all.

:func:`mriotrace.load_results` reads every results file mriotrace writes and
returns one object per kind (``mriotrace.inspect(path)["kind"]``)::

    kind       written by                                          returns
    footprint  mriotrace footprint SYS -o x.h5, save_results        AccountsResults
    system     mriotrace.save after calc_all (accounts stored)      AccountsResults (its accounts)
    scenario   mriotrace scenario run ... -o x.h5                   ScenarioResults
    spa        mriotrace spa ... -o x.h5, tracing.spa(..., h5=)     tracing.SPAResult
    batch      mriotrace batch run, batch.run                       batch.BatchResults

An :class:`AccountsResults` holds one :class:`AccountSet` per stored result set
("stressors", "value_added"; "base" and "scenario <name>" in scenario files),
each with pymrio's layouts: M, D_cba, D_pba, D_imp, D_exp stressors x (region,
sector); D_*_reg stressors x region; Q (stressor, region_from) x region_to; x
per (region, sector). Units: ``set.unit`` (pymrio's layout) and every table's
``attrs["units"]`` (row -> unit; M in unit per monetary unit). The same
object comes from a system after calc_all (``system.results()``), so a file
and the computation it stores compare table by table.

Exports (one module, :mod:`mriotrace.export`): ``to_frame()`` (tidy, one row
per value with its unit), ``to_parquet(path)``, ``to_csv(path)`` and
``to_xarray()``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .system import ACCOUNT_NAMES

__all__ = ["AccountSet", "AccountsResults", "ScenarioResults", "ACCOUNTS"]

#: Every account an AccountSet can hold, in the order of the tidy tables.
ACCOUNTS = (*ACCOUNT_NAMES, "Q", "x")
_SECTOR_LEVEL = ACCOUNT_NAMES[:5]
_REGIONAL = ACCOUNT_NAMES[5:]
#: The row label of a value-added result set (it stores no stressor index).
VALUE_ADDED_ROW = "value added"


class AccountSet:
    """One stored set of accounts (a /results/<name> group, or one set of a calc_all).

    ``stressors``: the row labels (flat stressor names as stored; "value added" for
    value-added accounts); ``units``: their units. Accounts that were not computed
    (``sector_level=False``, no final demand) are None; ``accounts`` lists the others.
    """

    def __init__(self, name: str, acc: dict, labels, monetary_unit: str):
        self.name = name
        self.monetary_unit = monetary_unit
        regions = pd.Index(list(labels.regions), name="region")
        index = pd.MultiIndex.from_product([regions, pd.Index(list(labels.sectors), name="sector")])
        names, units = list(labels.stressors), list(labels.stressor_units)
        rows = [int(r) for r in acc.get("stressors", [])]
        if rows:
            self.stressors = pd.Index([names[r] for r in rows], name="stressor")
            self.units = [units[r] if r < len(units) else "" for r in rows]
        else:  # value-added accounts: one row in the monetary unit, no stressor index
            self.stressors = pd.Index([VALUE_ADDED_ROW], name="stressor")
            self.units = [monetary_unit]
        self._arrays: dict[str, np.ndarray] = {}
        for key in _SECTOR_LEVEL:
            self._put(key, acc.get(key), pd.DataFrame, index)
        for key in _REGIONAL:
            self._put(key, acc.get(key), pd.DataFrame, regions)
        self.Q = None
        q = acc.get("Q")
        if q is not None:
            q = np.ascontiguousarray(q)  # (k, R, R): [s, p, r]
            k, R = q.shape[0], q.shape[1]
            self._arrays["Q"] = q
            self.Q = pd.DataFrame(q.reshape(k * R, R), columns=pd.Index(regions, name="region_to"),
                                  index=pd.MultiIndex.from_product([self.stressors, regions],
                                                                   names=["stressor", "region_from"]))
            self.Q.attrs = self._attrs("Q")
        x = acc.get("x")
        self.x = None
        if x is not None and np.size(x):
            self._arrays["x"] = np.asarray(x)
            self.x = pd.Series(np.asarray(x), index=index, name="indout")
            self.x.attrs = {"units": monetary_unit, "account": "x", "result": name}

    def _put(self, key: str, data, kind, columns) -> None:
        if data is None:
            setattr(self, key, None)
            return
        arr = np.asarray(data)
        self._arrays[key] = arr
        df = kind(arr, index=self.stressors, columns=columns)
        df.attrs = self._attrs(key)
        setattr(self, key, df)

    def _attrs(self, key: str) -> dict:
        return {"units": dict(zip(self.stressors, self.units_of(key))), "account": key, "result": self.name}

    def units_of(self, account: str) -> list[str]:
        """The unit of each row of `account`: the stressor's; M per unit of money; x the money unit."""
        if account == "x":
            return [self.monetary_unit]
        if account == "M":
            money = self.monetary_unit or "monetary unit"
            return [f"{u} per {money}" if u else f"per {money}" for u in self.units]
        return list(self.units)

    @property
    def accounts(self) -> list[str]:
        """The accounts this set holds, in the order of :data:`ACCOUNTS`."""
        return [a for a in ACCOUNTS if a in self._arrays]

    @property
    def unit(self) -> pd.DataFrame:
        """Unit per row, DataFrame with column "unit" (pymrio's layout)."""
        return pd.DataFrame({"unit": self.units}, index=self.stressors)

    def array(self, account: str) -> np.ndarray:
        """The stored array: (k, n), (k, R), Q (k, R, R) [s, p, r], x (n,). KeyError naming the held ones."""
        if account not in self._arrays:
            raise KeyError(f"result set {self.name!r} holds no {account!r}; it holds {self.accounts}")
        return self._arrays[account]

    def __repr__(self) -> str:
        return (f"AccountSet {self.name!r}: {len(self.stressors)} row(s) ({', '.join(map(str, self.stressors[:5]))}"
                f"{', ...' if len(self.stressors) > 5 else ''}); accounts: {', '.join(self.accounts) or 'none'}")


class AccountsResults:
    """Accounts as labelled tables: the result sets of a file, or of a system's calc_all.

    ``sets``: name -> :class:`AccountSet` in stored order (also ``results[name]``);
    ``regions``, ``sectors``, ``monetary_unit``; ``kind`` ("footprint", "system",
    "scenario"); ``source`` (the file, or the system's name).
    """

    kind = "footprint"

    def __init__(self, labels, named, *, kind: str | None = None, source: str = ""):
        self.kind = kind or type(self).kind
        self.source = source
        self.regions = pd.Index(list(labels.regions), name="region")
        self.sectors = pd.Index(list(labels.sectors), name="sector")
        self.monetary_unit = labels.monetary_unit
        self.sets = {name: AccountSet(name, acc, labels, labels.monetary_unit) for name, acc in named}

    @classmethod
    def from_system(cls, system) -> "AccountsResults":
        """The accounts of `system`'s last calc_all (what mriotrace.save stores with it)."""
        if not system._results:
            raise ValueError(f"system {system.name!r} has no accounts yet; call calc_all() first")
        return cls(system.core.labels, list(system._results.items()), kind="system", source=system.name)

    def __getitem__(self, name: str) -> AccountSet:
        if name not in self.sets:
            raise KeyError(f"no result set {name!r}; the results hold {list(self.sets)}")
        return self.sets[name]

    def __iter__(self):
        return iter(self.sets.values())

    def __len__(self) -> int:
        return len(self.sets)

    def __repr__(self) -> str:
        where = f" from {self.source!r}" if self.source else ""
        lines = [f"{type(self).__name__} ({self.kind}){where}: {len(self.regions)} regions x "
                 f"{len(self.sectors)} sectors, monetary unit {self.monetary_unit!r}"]
        lines += [f"  {s!r}" for s in self.sets.values()]
        return "\n".join(lines)

    # --- exports (mriotrace.export) ---------------------------------------------------
    def to_frame(self, accounts=None) -> pd.DataFrame:
        """Tidy table: one row per value; columns result, account, stressor, unit, region, sector,
        partner, value ("" where a label does not apply; Q: region = emitting region, partner =
        the region whose final demand caused it). accounts: only these (e.g. ["D_cba_reg", "Q"]);
        the sector-level ones have k x n rows each."""
        from . import export
        return export.accounts_frame(self, accounts)

    def to_xarray(self):
        """xarray.Dataset, one variable per account over (result, stressor, region, sector | partner);
        the stressors' units as coordinate "unit", each variable's in attrs["units"]."""
        from . import export
        return export.accounts_xarray(self)

    def to_parquet(self, path, accounts=None) -> None:
        """:meth:`to_frame` as a Parquet file (needs pyarrow: ``pip install "mriotrace[export]"``)."""
        from . import export
        export.write_parquet(self.to_frame(accounts), path)

    def to_csv(self, path, accounts=None) -> None:
        """:meth:`to_frame` as CSV (read back exactly with ``mriotrace.export.read_csv``)."""
        from . import export
        export.write_csv(self.to_frame(accounts), path)


class ScenarioResults(AccountsResults):
    """A scenario results file (``mriotrace scenario run ... -o x.h5``): the base's accounts
    (result set "base") and each scenario's ("scenario <name>"): x, D_*_reg and Q.

    ``scenarios``: the scenario names; ``base``, ``scenario(name)``: their AccountSets.
    ``to_frame("regions")`` is :meth:`mriotrace.ScenarioResult.to_frame`'s layout (pba_base,
    pba, dpba, cba_base, cba, dcba per stressor and region, "all" = the sum), so a file and
    the in-memory results compare row by row; ``to_frame("accounts")`` the generic accounts table.
    """

    kind = "scenario"
    _PREFIX = "scenario "

    @property
    def scenarios(self) -> list[str]:
        return [n[len(self._PREFIX):] for n in self.sets if n.startswith(self._PREFIX)]

    @property
    def base(self) -> AccountSet:
        return self["base"]

    def scenario(self, name: str) -> AccountSet:
        if self._PREFIX + name not in self.sets:
            raise KeyError(f"no scenario {name!r} in the results; they hold {self.scenarios}")
        return self.sets[self._PREFIX + name]

    def __repr__(self) -> str:
        where = f" from {self.source!r}" if self.source else ""
        return (f"ScenarioResults{where}: {len(self.scenarios)} scenario(s) ({', '.join(self.scenarios)}) against "
                f"the base; {len(self.base.stressors)} stressors x {len(self.regions)} regions; accounts "
                f"{', '.join(self.base.accounts)}")

    def to_frame(self, what: str = "regions") -> pd.DataFrame:
        """what: "regions" (scenario, metric, stressor, unit, region, value; ScenarioResult.to_frame's
        layout) or "accounts" (every stored account, AccountsResults.to_frame's layout)."""
        from . import export
        if what == "accounts":
            return export.accounts_frame(self)
        if what == "regions":
            return export.scenario_regions_frame(self)
        raise ValueError(f'what = {what!r}; expected "regions" or "accounts"')

    def to_xarray(self, what: str = "regions"):
        from . import export
        if what == "accounts":
            return export.accounts_xarray(self)
        return export.frame_xarray(self.to_frame(what), **export.SCENARIO_XARRAY[what])

    def to_parquet(self, path, what: str = "regions") -> None:
        from . import export
        export.write_parquet(self.to_frame(what), path)

    def to_csv(self, path, what: str = "regions") -> None:
        from . import export
        export.write_csv(self.to_frame(what), path)
