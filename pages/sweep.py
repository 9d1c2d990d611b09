"""Sweep: batch sizes x learning rates of a noise GAN, each combination an ordinary run, launched in
the background; the sweep's table and a heatmap of one of its columns. The form, the job and the
sweep's view are in studio.sweep_view."""
import streamlit as st

from gan_core.runs import list_sweeps, sweep_problem
from studio.sweep_view import CHOSEN_KEY, new_sweep_form, show_sweep, sweep_choices
from studio.widgets import dataset_path, no_dataset_notice, runs_dir

st.title("Sweep")
dataset = dataset_path()
sweeps = {folder.name: folder for folder in list_sweeps(runs_dir())}
with st.expander("New sweep", expanded=not sweeps, icon=":material/grid_on:"):
    if dataset is None:
        no_dataset_notice()
    new_sweep_form(dataset)

st.subheader("Sweeps")
if not sweeps:
    st.info(f"No sweeps in `{runs_dir()}` yet: launch one above, or run `python -m gan_core sweep`.",
            icon=":material/grid_on:")
    st.stop()
damaged = {name: problem for name, folder in sweeps.items() if (problem := sweep_problem(folder))}
for name, problem in damaged.items():
    st.warning(f"Sweep `{name}` is damaged: {problem}. Its runs still show on the Runs page.",
               icon=":material/broken_image:")
if st.session_state.get(CHOSEN_KEY) not in sweeps:
    st.session_state.pop(CHOSEN_KEY, None)  # deleted meanwhile
chosen = st.selectbox("Sweep", sweep_choices(sweeps, damaged), key=CHOSEN_KEY,
                      format_func=lambda name: f"{name} (damaged)" if name in damaged else name)
show_sweep(sweeps[chosen])
