"""Export & score: write the competition's images.zip from a run (each export kept under its own
name, with its manifest), then score a chosen export (FID, KID, MiFID) against the Monet paintings.
Both run as background jobs; a fragment polls them. The work is in studio.exports and studio.export_view."""
from functools import partial

import streamlit as st

from gan_core.config import TRANSLATION_MODELS
from gan_core.estimate import estimate_scoring
from gan_core.export import export_zip
from gan_core.export_validate import MAX_COUNT, MIN_SUBMISSION
from studio.export_view import (delete_notice, export_actions, export_options_form, export_picker, job_panel,
                                memorisation_gallery, score_metrics, start_job)
from studio.exports import (DOWNLOAD_NAME, exports_dir, list_exports, manifest_path, new_export_path,
                            reference_paintings, score_and_record)
from studio.estimate_view import describe_scoring, show_estimate, start_estimate
from studio.runs_view import scores_table
from studio.widgets import checkpoint_picker, run_picker
from studio.tables import show_table

QUICK_IMAGES = 500
SCORE_ESTIMATE_KEY = "score_estimate"

st.title("Export & score")
run = run_picker("Run", key="export_run", url_param="run")  # ?run=ID opens a run
checkpoint = checkpoint_picker(run, key="export_checkpoint") if run else None
if checkpoint is None:
    st.stop()

st.header(f"Export {DOWNLOAD_NAME}", divider="gray")
with st.form("export_form"):
    left, right = st.columns(2)
    count = left.number_input("Images", 1, MAX_COUNT, MIN_SUBMISSION, step=500,
                              help=f"The competition accepts {MIN_SUBMISSION:,} to {MAX_COUNT:,}.")
    seed = right.number_input("Seed", 0, 2 ** 31 - 1, 0, help="Noise models: the z of `gan_core sample` for this "
                              "seed. Translation runs translate the photo set and ignore it.")
    options = export_options_form(run.config().get("model") in TRANSLATION_MODELS)
    st.caption(f"Writes a new zip to `{exports_dir(run.path)}`, named by its checkpoint step and time "
               f"(`{new_export_path(run, checkpoint).name}`), validates it, and records its manifest beside it. "
               f"Earlier exports are kept.")
    if st.form_submit_button("Export", icon=":material/ios_share:", type="primary"):
        out = new_export_path(run, checkpoint)
        start_job("export", f"Export {count:,} images from {run.id}/{checkpoint.name} to {out.name}",
                  partial(export_zip, run.path, count=count, out=out, manifest=manifest_path(out), seed=seed,
                          checkpoint=checkpoint, **options), run.path)
job_panel("export", run.path)

exports = list_exports(run)
if exports:
    st.subheader("Exports of this run")
chosen = export_picker(run, exports)
if chosen:
    export_actions(run, chosen)
delete_notice()

st.header("Score", divider="gray")
reference = reference_paintings()
if chosen is None:
    st.info(f"Export {DOWNLOAD_NAME} first: the score compares it with the Monet paintings.")
elif reference is None:
    st.warning("Scoring needs the Monet paintings (`monet_jpg/`): choose the competition dataset on the Home page.")
else:
    # Outside the form, so the size box follows it: an estimate size only when estimating.
    quick = st.checkbox("Quick estimate on a random subset", help="Scores fewer generated images: faster, "
                        "but FID is biased upwards on small sets, so compare estimates only with estimates.")
    with st.form("score_form"):
        max_images = st.number_input("Images in the estimate", 2, MAX_COUNT, QUICK_IMAGES, disabled=not quick,
                                     help="Only with the quick estimate; otherwise every image of the zip is scored.")
        st.caption(f"Against `{reference}` (its Inception features are cached after the first score): "
                   f"scores `{chosen.name}`, the export chosen above.")
        left, right = st.columns([1, 3])
        if left.form_submit_button("Score", icon=":material/leaderboard:", type="primary"):
            start_job("score", f"Score {run.id}/{chosen.name}" + (f" (estimate, {max_images} images)" if quick else ""),
                      partial(score_and_record, run.path, chosen.path, reference, max_images if quick else None,
                              chosen.details), run.path)
        if right.form_submit_button("Estimate time", icon=":material/timer:",
                                    help="Times Inception on a few batches of the zip on this machine."):
            start_estimate(SCORE_ESTIMATE_KEY, f"Estimating the score of {chosen.name}", "auto",
                           partial(estimate_scoring, chosen.path, reference, max_images if quick else None))
    show_estimate(SCORE_ESTIMATE_KEY, describe_scoring)
    job_panel("score", run.path)

scores = run.scores()
if chosen and chosen.latest_score:
    st.subheader(f"Latest score of `{chosen.name}`")
    score_metrics(chosen.latest_score)
elif chosen and scores:
    st.caption(f"`{chosen.name}` has no score yet; the run's scores of its other exports are below.")
if scores:
    st.subheader("Scores of this run")
    only = bool(chosen) and st.toggle("Only the chosen export's scores", key="scores_only_chosen")
    if not only or chosen.scores:
        show_table(scores_table(chosen.scores if only else scores))  # zip: the export scored
if chosen and chosen.latest_score:
    st.subheader("Closest generated / painting pairs")
    st.caption(f"The images of `{chosen.name}` nearest a painting in Inception feature space (distance 1 − |cos|): "
               "a very small distance suggests a memorised painting.")
    memorisation_gallery(chosen.latest_score)
