"""Checks the commands make before they load anything: that the files they are given belong together."""

from __future__ import annotations

import os

from superpose.core.errors import SuperposeError


def check_units_of(path: str | os.PathLike | None, *, records: str | os.PathLike | None = None,
                   run: str | os.PathLike | None = None) -> None:
    """``--units`` of the commands that read records or a mining run: a one-line error unless the
    records folder and the run were made from the units at ``path`` (nothing to check without one)."""
    from superpose.activations.formats import RecordStore
    from superpose.mining.runfile import read_run_file
    from superpose.units.formats import check_units

    if path is None:
        return
    if records is not None:
        check_units(path, RecordStore(records).meta.get("units"), f"the records {records}")
    if run is not None:
        found = read_run_file(run)
        if found is None:
            raise SuperposeError(f"{run} holds no run.json: give the mining run folder")
        check_units(path, (found.get("request") or {}).get("units"), f"the mining run {run}")
