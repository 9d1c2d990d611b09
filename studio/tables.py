"""The one way the studio shows a table: missing values read "–", never "None"."""
from __future__ import annotations

import streamlit as st

MISSING = "–"


def show_table(data, hide_index: bool = True, **kwargs):
    """st.dataframe with the studio's placeholder for missing values (a run without a score, a
    setting one run lacks) and no index column unless asked."""
    return st.dataframe(data, hide_index=hide_index, placeholder=MISSING, **kwargs)
