"""The embedded Shanghai demo day: 浦东新区 compounds, suppliers and orders for 2022-04-15.

The files next to this module are built by ``python -m data.demo.build`` from the shared
Shanghai data and committed; see README.md here for sources, licences and what is synthetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DEMO_DIR: Path = Path(str(resources.files(__name__)))
"""Folder holding the demo files (inside the installed package)."""

DEMO_DATE: dt.date = dt.date(2022, 4, 15)
"""Delivery date of the demo day, during the spring 2022 Shanghai lockdown."""

FOCUS_COMPOUND_ID: str = "pd-5020022941389440"
"""地杰国际城F欧香四季 (北蔡镇, 1,186 households): 28 buildings and household orders."""

FOCUS_JIELONG_BUILDING_ID: str = f"{FOCUS_COMPOUND_ID}-b12"
"""The focus building whose orders come as a pasted 接龙 list instead of the CSV."""

DEMO_SEED: int = 20220415
"""Seed of the synthetic orders of the other compounds (the CLI's default ``--seed``)."""


@dataclass(frozen=True)
class DemoFiles:
    """Paths of every file of the demo dataset."""

    compounds: Path
    buildings: Path
    gates: Path
    lockdown: Path
    categories: Path
    supply: Path
    orders: Path
    """Household orders of the focus compound (long CSV, one row per item)."""
    jielong: Path
    """A pasted 接龙 list of one focus building, not overlapping ``orders``."""
    household_quantiles: Path
    compound_density: Path
    readme: Path

    def all(self) -> tuple[Path, ...]:
        """Every path, in field order."""
        return (
            self.compounds,
            self.buildings,
            self.gates,
            self.lockdown,
            self.categories,
            self.supply,
            self.orders,
            self.jielong,
            self.household_quantiles,
            self.compound_density,
            self.readme,
        )


def demo_files(directory: Path | None = None) -> DemoFiles:
    """The demo files in ``directory`` (default: the installed package folder)."""
    base = DEMO_DIR if directory is None else directory
    building = FOCUS_JIELONG_BUILDING_ID.rsplit("-", 1)[1]
    return DemoFiles(
        compounds=base / "compounds.csv",
        buildings=base / "buildings.csv",
        gates=base / "gates.csv",
        lockdown=base / "lockdown.csv",
        categories=base / "categories.yaml",
        supply=base / "supply.yaml",
        orders=base / f"orders_{FOCUS_COMPOUND_ID}.csv",
        jielong=base / f"jielong_{FOCUS_COMPOUND_ID}_{building}.txt",
        household_quantiles=base / "household_quantiles.csv",
        compound_density=base / "compound_density.csv",
        readme=base / "README.md",
    )
