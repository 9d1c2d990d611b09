"""Train: settings generated from TrainConfig, a background launch, and the live view of a run."""
import streamlit as st

from studio.fork_view import fixed_fields, fork_header, pending_fork
from studio.launch import RUN_KEY, estimate_from_form, estimate_panel, follow_new_run, pending_launch, start_from_form
from studio.live import live_view
from studio.train_form import preset_and_model, settings_form
from studio.widgets import dataset_choice, no_dataset_notice, run_picker

st.title("Train")
follow_new_run()
dataset, no_dataset_reason = dataset_choice()  # a dataset that cannot be read is never in use

with st.expander("New run", expanded=True, icon=":material/tune:"):
    if dataset is None:
        no_dataset_notice()
    fork = pending_fork()  # "Fork from this checkpoint" in the live view fills the form with the parent's settings
    preset, model, defaults = fork_header(fork, dataset) if fork else preset_and_model()
    values, pressed = settings_form(preset, model, defaults, dataset, fork, fixed_fields(fork), no_dataset_reason)
    if pressed == "launch":
        start_from_form(values, preset, model)
    elif pressed == "estimate":
        estimate_from_form(values, preset, model)
    estimate_panel()

st.subheader("Live view")
pending_launch()
run = run_picker("Run", key=RUN_KEY, url_param="run")  # ?run=ID opens a run
if run is not None:
    live_view(run)
