"""Home: the dataset in use (and how to choose another) and every run at a glance."""
import streamlit as st

from gan_core.runs import list_runs
from studio.dataset_view import current_dataset_panel, dataset_chooser
from studio.runs_view import show_runs_table
from studio.widgets import dataset_path, runs_dir, settings_notice

st.title("Monet GAN Studio")
st.caption("Train GANs that paint like Monet: inspect the data, train and watch, explore the latent "
           "space, then export and score.")

st.header("Dataset", divider="gray")
settings_notice()  # a damaged or unwritable settings file, a remembered dataset gone bad
if dataset_path() is None:
    st.info("**No dataset yet.** Enter a folder path below, upload the competition zip "
            "(`gan-getting-started.zip`), or start the studio with `GAN_STUDIO_DATA=/path/to/data`. "
            "MNIST's `raw/` folder works too.", icon=":material/photo_library:")
current_dataset_panel()
with st.expander("Choose another dataset" if dataset_path() else "Choose a dataset", expanded=dataset_path() is None,
                 icon=":material/folder_open:"):
    dataset_chooser()

st.header("Runs", divider="gray")
runs = list_runs(runs_dir())
if runs:
    show_runs_table(runs)
else:
    st.info(f"No runs in `{runs_dir()}` yet: start one on the Train page.", icon=":material/model_training:")
