"""The studio's pages: one list, used by the entry (studio/app.py), page links and tests."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"

# (file stem = url path, title, Material icon)
PAGE_SPECS = [
    ("home", "Home", ":material/home:"),
    ("dataset_eda", "Dataset EDA", ":material/image_search:"),
    ("train", "Train", ":material/model_training:"),
    ("latent_explorer", "Latent explorer", ":material/tune:"),
    ("export_score", "Export & score", ":material/ios_share:"),
    ("runs", "Runs", ":material/compare:"),
    ("sweep", "Sweep", ":material/grid_on:"),
]


def page(name: str) -> st.Page:
    stem, title, icon = next(spec for spec in PAGE_SPECS if spec[0] == name)
    return st.Page(PAGES_DIR / f"{stem}.py", title=title, icon=icon, url_path=stem, default=stem == "home")


def pages() -> list[st.Page]:
    return [page(stem) for stem, _, _ in PAGE_SPECS]
