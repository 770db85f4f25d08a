"""Batch runs: Monte Carlo and scenario ensembles, SDA, checkpoint and resume.

A job is a TOML file (keys and results layout: docs/hpc.md)::

    import mriotrace.batch as batch
    path = batch.run("job.toml")          # tqdm progress bar; resumes a killed run
    res = batch.load(path)
    res.summary("D_cba_reg", "CO2")       # median, 2.5 / 97.5 percentiles per region
    res.draws("D_cba_reg", "CO2")         # every draw, one row each

The computation is the C++ runner (the same as ``mriotrace batch run``):
items run on the job's threads with the GIL released; every finished item is
fsync'd to the checkpoint journal before it counts, so re-running the same
call after a crash skips the finished items and gives identical results.
Across nodes use the command line: ``mpirun -n P mriotrace batch run job.toml``,
or ``--shard i/N`` and :func:`merge`.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from . import _core

__all__ = ["run", "run_job", "merge", "load", "job_info", "BatchResults"]


def _job_text(job) -> tuple[str, str, str]:
    """(text, origin, base_dir) of a job given as a path or as TOML text."""
    if isinstance(job, (str, os.PathLike)) and "\n" not in str(job):
        path = Path(job)
        if not path.is_file():
            raise FileNotFoundError(f"job file {str(path)!r} does not exist")
        return path.read_text(encoding="utf-8"), str(path), str(path.parent)
    if isinstance(job, str):
        return job, "<job text>", os.getcwd()
    raise ValueError(f"job must be a path to a TOML job file or TOML text; got {type(job).__name__}")


def job_info(job) -> dict:
    """Parse and validate a job: its output, item count, systems, scenarios, draws."""
    return _core.batch_job_info(*_job_text(job))


def _shard(shard) -> tuple[int, int]:
    if shard is None:
        return 0, 1
    if isinstance(shard, str):
        try:
            i, n = (int(p) for p in shard.split("/"))
        except ValueError:
            raise ValueError(f"shard {shard!r}: expected 'i/N', e.g. '0/4'") from None
    else:
        i, n = shard
    if not (0 <= i < n):
        raise ValueError(f"shard {i}/{n}: expected 0 <= i < N")
    return i, n


def run_job(job, *, threads: int | None = None, shard=None, output=None, restart: bool = False,
            progress: bool = True, snapshot_seconds: float = 30.0) -> dict:
    """Run or resume `job`; returns the run summary (output, total, resumed, computed, failed,
    seconds, setup_seconds, seconds_per_item, complete, failures)."""
    text, origin, base_dir = _job_text(job)
    info = _core.batch_job_info(text, origin, base_dir)
    index, count = _shard(shard)
    callback, bar = None, None
    if progress:
        from tqdm.auto import tqdm

        total = len(range(index, info["total"], count))
        bar = tqdm(total=total, unit="item", desc="mriotrace batch")

        def callback(done, total, failed, rate, eta):
            if failed:
                bar.set_postfix(failed=failed, refresh=False)
            bar.update(done - bar.n)  # tqdm throttles the redraws itself

    try:
        summary = _core.batch_run(text, origin, base_dir, threads=-1 if threads is None else int(threads),
                                  shard_index=index, shard_count=count, output=os.fspath(output or ""),
                                  restart=restart, quiet=True, snapshot_seconds=snapshot_seconds,
                                  progress=callback)
    finally:
        if bar is not None:
            bar.close()
    return summary


def run(job, *, threads: int | None = None, shard=None, output=None, restart: bool = False,
        progress: bool = True, snapshot_seconds: float = 30.0, allow_failures: bool = False) -> Path:
    """Run or resume `job` (path or TOML text) with a tqdm progress bar; returns the results file.

    threads: worker threads (default: the job's ``threads``, 0 = all cores).
    shard: ``"i/N"`` or ``(i, N)``: only items with id % N == i (merge the shards with :func:`merge`).
    restart: discard an earlier partial run instead of resuming it.
    Raises ValueError for a malformed job, OSError when a system file is missing or the
    output belongs to another (or a changed) job. Items that fail (a singular or
    non-productive draw, a scenario a check rejects) are recorded in the file with their
    reason (see :attr:`BatchResults.failures`), and then ``run`` raises
    :class:`mriotrace.NumericError` naming the count and the first reasons, unless
    ``allow_failures=True``, which returns the file as the command line's exit code 1 would.
    """
    summary = run_job(job, threads=threads, shard=shard, output=output, restart=restart, progress=progress,
                      snapshot_seconds=snapshot_seconds)
    if summary["failed"] and not allow_failures:
        from . import NumericError

        first = "; ".join(summary["failures"][:3])
        raise NumericError(f"{summary['failed']} of {summary['total']} items failed (first: {first}); the other "
                           f"items are complete in {summary['output']!r} (pass allow_failures=True to get it anyway)")
    return Path(summary["output"])


def merge(shards, output, *, allow_partial: bool = False) -> Path:
    """Merge the shard outputs of one job into `output` (identical to an unsharded run)."""
    _core.batch_merge([os.fspath(s) for s in shards], os.fspath(output), allow_partial)
    return Path(output)


def load(path) -> "BatchResults":
    """Open a batch results file (complete, partial or a shard)."""
    return BatchResults(path)


def _strings(ds) -> list[str]:
    return [s.decode() if isinstance(s, bytes) else str(s) for s in ds[()]]


class BatchResults:
    """A batch results file as pandas tables (layout: docs/hpc.md)."""

    def __init__(self, path):
        self.path = Path(path)
        with h5py.File(self.path, "r") as f:
            if f.attrs.get("format") != "mriotrace-batch":
                raise OSError(f"{str(self.path)!r} is not an mriotrace batch results file")
            self.attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}
            self.regions = _strings(f["labels/regions"])
            self.stressors = _strings(f["labels/stressors"])
            self.systems = _strings(f["labels/systems"])
            self.scenarios = _strings(f["labels/scenarios"])
            self.accounts = _strings(f["labels/accounts"])
            items = {k: f["items"][k][()] for k in f["items"]}
        items["message"] = [m.decode() if isinstance(m, bytes) else m for m in items["message"]]
        items["status"] = np.where(items["status"] == 1, "ok", "failed")
        self.items = pd.DataFrame(items).set_index("id")

    @property
    def complete(self) -> bool:
        return bool(self.attrs.get("complete", 0))

    @property
    def failures(self) -> pd.DataFrame:
        """Failed items with their reason."""
        return self.items[self.items["status"] == "failed"]

    def _grid_rows(self) -> pd.DataFrame:
        return self.items[self.items["sda"] < 0]

    def draws(self, account: str = "D_cba_reg", stressor: str | None = None) -> pd.DataFrame:
        """One row per grid item (system, scenario, draw; draw -1 = unperturbed), one column per
        region (Q: per (region of emission, region of demand)); NaN for failed items."""
        s = self._stressor(stressor)
        with h5py.File(self.path, "r") as f:
            if f"results/{account}" not in f:
                raise KeyError(f"account {account!r} is not in {str(self.path)!r}; kept: {self.accounts}")
            data = f[f"results/{account}"][()]
        rows = self.items.index.get_indexer(self._grid_rows().index)
        values = data[rows, s]
        if values.ndim == 3:  # Q: [item, p, r]
            values = values.reshape(values.shape[0], -1)
            columns = pd.MultiIndex.from_product([self.regions, self.regions], names=["region", "demand_region"])
        else:
            columns = pd.Index(self.regions, name="region")
        g = self._grid_rows()
        index = pd.MultiIndex.from_arrays(
            [[self.systems[i] for i in g["system"]], [self.scenarios[i] for i in g["scenario"]], g["draw"]],
            names=["system", "scenario", "draw"])
        return pd.DataFrame(values, index=index, columns=columns)

    def summary(self, account: str = "D_cba_reg", stressor: str | None = None) -> pd.DataFrame:
        """Statistics over the draws (mean, median, p2_5, p97_5, deterministic, delta_median,
        delta_p2_5, delta_p97_5, p_delta_negative; delta = scenario minus base of the same draw)
        per (system, scenario, statistic) x region. Only in complete files of Monte Carlo jobs."""
        s = self._stressor(stressor)
        frames = {}
        with h5py.File(self.path, "r") as f:
            if f"summary/{account}" not in f:
                raise KeyError(f"no summary of {account!r} in {str(self.path)!r} (complete Monte Carlo runs only)")
            g = f[f"summary/{account}"]
            for stat in g:
                data = g[stat][()][:, :, s]
                data = data.reshape(data.shape[0] * data.shape[1], -1)
                frames[stat] = pd.DataFrame(data, index=pd.MultiIndex.from_product(
                    [self.systems, self.scenarios], names=["system", "scenario"]))
        out = pd.concat(frames, names=["statistic"]).reorder_levels([1, 2, 0]).sort_index()
        out.columns = (pd.Index(self.regions, name="region") if out.shape[1] == len(self.regions) else
                       pd.MultiIndex.from_product([self.regions, self.regions], names=["region", "demand_region"]))
        return out

    def target(self) -> pd.DataFrame | None:
        """P(target met) and the deterministic outcome per (system, scenario), or None."""
        with h5py.File(self.path, "r") as f:
            if "summary/target" not in f:
                return None
            g = f["summary/target"]
            cols = {k: g[k][()].ravel() for k in g}
        return pd.DataFrame(cols, index=pd.MultiIndex.from_product([self.systems, self.scenarios],
                                                                   names=["system", "scenario"]))

    def sda(self, name: str | None = None) -> pd.DataFrame:
        """An SDA of the job: (stressor, region) x (E0, E1, change, effect_<factor>...)."""
        with h5py.File(self.path, "r") as f:
            names = list(f["sda"]) if "sda" in f else []
            if not names:
                raise KeyError(f"no SDA results in {str(self.path)!r}")
            name = name or names[0]
            if name not in names:
                raise KeyError(f"SDA {name!r} not in {str(self.path)!r}; available: {names}")
            g = f["sda"][name]
            factors = _strings(g["factors"])
            e0, e1, eff = g["E0"][()], g["E1"][()], g["effects"][()]
        index = pd.MultiIndex.from_product([self.stressors, self.regions], names=["stressor", "region"])
        cols = {"E0": e0.ravel(), "E1": e1.ravel(), "change": (e1 - e0).ravel()}
        for i, fct in enumerate(factors):
            cols[f"effect_{fct}"] = eff[i].ravel()
        return pd.DataFrame(cols, index=index)

    def to_frame(self, account: str = "D_cba_reg", stressor: str | None = None) -> pd.DataFrame:
        """Tidy table of every grid item: system, scenario, draw (-1 = unperturbed), region (Q: region
        and demand_region), account, stressor, value; failed items are left out."""
        name = self.stressors[self._stressor(stressor)]
        d = self.draws(account, name)
        ok = self._grid_rows()["status"].to_numpy() == "ok"
        long = d[ok].stack(list(range(d.columns.nlevels)), future_stack=True).rename("value").reset_index()
        long.insert(long.columns.get_loc("value"), "account", account)
        long.insert(long.columns.get_loc("value"), "stressor", name)
        return long

    def report(self, account: str | None = None, stressor: str | None = None) -> str:
        """A readable summary: items done / failed, the labels, and per (system, scenario) the
        `account` (default: D_cba_reg, else the first kept) of `stressor` summed over regions:
        the unperturbed value and, with draws, median and 95 % interval over the draws, the change
        from the base scenario of the same draw, and P(target met). Units are those of the job's
        systems (the results file does not record them)."""
        from .units import number

        account = account or ("D_cba_reg" if "D_cba_reg" in self.accounts else self.accounts[0])
        if account not in self.accounts:
            raise KeyError(f"account {account!r} is not in {str(self.path)!r}; kept: {self.accounts}")
        stressors = [stressor] if stressor is not None else self.stressors
        g = self._grid_rows()
        done = len(self.items)
        lines = [f"batch results {str(self.path)!r}: {'complete' if self.complete else 'PARTIAL'}, {done} of "
                 f"{self.attrs.get('total_items')} items done, {len(self.failures)} failed",
                 f"  systems: {', '.join(self.systems)}; scenarios: {', '.join(self.scenarios)}; "
                 f"{len(self.regions)} regions; accounts kept: {', '.join(self.accounts)}"]
        draws = sorted(set(int(v) for v in g["draw"]) - {-1})
        targets = self.target()
        for name in stressors:
            d = self.draws(account, name)
            totals = d.sum(axis=1, min_count=1)
            lines.append("")
            head = f"{account} of {name}" + (", summed over regions" if account != "Q" else ", all flows")
            lines.append(head + (f" ({len(draws)} draws: median [2.5 %, 97.5 %])" if draws else ""))
            rows = []
            for sys_name in self.systems:
                for sc in self.scenarios:
                    key = (sys_name, sc)
                    if key not in totals.index.droplevel("draw"):
                        continue
                    t = totals.loc[key]
                    base = totals.loc[(sys_name, self.scenarios[0])] if sc != self.scenarios[0] else None
                    cell = [sys_name, sc, number(t.get(-1, np.nan))]
                    if draws:
                        v = t.drop(-1, errors="ignore").dropna()
                        cell.append(f"{number(v.median())} [{number(v.quantile(0.025))}, {number(v.quantile(0.975))}]"
                                    if len(v) else "n/a")
                        if base is not None:
                            dv = (t - base).drop(-1, errors="ignore").dropna()
                            cell.append(f"{number(dv.median(), sign=True)} [{number(dv.quantile(0.025), sign=True)}, "
                                        f"{number(dv.quantile(0.975), sign=True)}]" if len(dv) else "n/a")
                        else:
                            cell.append("")
                    if targets is not None and key in targets.index:
                        cell.append(f"{100 * targets.loc[key, 'p_met']:.0f} %")
                    rows.append(cell)
            header = ["system", "scenario", "unperturbed"] + (["over the draws", "change from base"] if draws else [])
            if targets is not None:
                header.append("P(target met)")
            widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
            for r in [header] + rows:
                lines.append("  " + "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                                              for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        for _, f in self.failures.head(5).iterrows():
            lines.append(f"failed item {f.name}: {f['message']}")
        if len(self.failures) > 5:
            lines.append(f"... and {len(self.failures) - 5} more failed items (BatchResults.failures)")
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.report().rstrip())}</pre>"

    def _stressor(self, stressor: str | None) -> int:
        if stressor is None:
            if len(self.stressors) != 1:
                raise ValueError(f"name a stressor; the file has {self.stressors}")
            return 0
        try:
            return self.stressors.index(stressor)
        except ValueError:
            raise ValueError(f"unknown stressor {stressor!r}; the file has {self.stressors}") from None

    def __repr__(self) -> str:
        return (f"BatchResults({str(self.path)!r}: {len(self.items)} of {self.attrs.get('total_items')} items, "
                f"{'complete' if self.complete else 'partial'}, {len(self.failures)} failed)")
