"""Comparison reports (`python -m gan_core compare`: a folder with a CSV table and GIFs) and sweeps
(`sweep.csv`) found under the runs folder, shown as they are."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

MAX_DEPTH = 2


def find_reports(root: Path) -> list[Path]:
    """Folders (not runs) under root holding a CSV table, nearest first."""
    if not root.exists():
        return []
    found = set()
    for depth in range(1, MAX_DEPTH + 1):
        for csv in root.glob("/".join(["*"] * depth) + ".csv"):
            if not (csv.parent / "config.json").exists():
                found.add(csv.parent)
    return sorted(found)


def show_report(folder: Path) -> None:
    for table in sorted(folder.glob("*.csv")):
        st.markdown(f"**{table.name}**")
        st.dataframe(pd.read_csv(table), hide_index=True)
    gifs = sorted(folder.glob("*.gif"))
    columns = st.columns(3)
    for i, gif in enumerate(gifs):
        columns[i % 3].image(str(gif), caption=gif.stem, width="stretch")
