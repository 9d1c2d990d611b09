"""Entry point: `streamlit run studio/app.py`. Builds the page list; every page lives in pages/."""
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# `streamlit run studio/app.py` puts studio/ on sys.path, not the repo root that holds gan_core.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402

from studio.navigation import pages  # noqa: E402
from studio.warmup import page_running, warm_imports  # noqa: E402


def navigation():
    st.set_page_config(page_title="Monet GAN Studio", page_icon=":material/palette:", layout="wide")
    return st.navigation(pages())


try:
    with page_running():
        navigation().run()
finally:  # after the page (also one that stopped early): the first page drawn never waits for it
    warm_imports()
