"""The Train page's settings form, generated from TrainConfig's fields and their metadata."""
from __future__ import annotations

import dataclasses
import math

import streamlit as st

from gan_core.config import MODELS, TrainConfig, applies_to, build_config, config_fields, list_presets, model_defaults

GROUPS = {"data": "Data", "model": "Model", "loss": "Loss", "training": "Optimisation", "run": "Run & outputs"}
# Chosen outside the form (they change which fields are shown) or set by the studio itself.
OUTSIDE_FORM = {"preset", "model", "runs_dir"}


def preset_and_model() -> tuple[str, str, dict]:
    """Preset and model pickers (outside the form). Returns preset, model, and the defaults the
    form starts from (dataclass defaults < the model's defaults < preset)."""
    presets = list_presets()
    left, right = st.columns(2)
    preset = left.selectbox("Preset", [""] + list(presets), key="train_preset",
                            format_func=lambda p: p or "none (engine defaults)",
                            help="A preset fills the form's defaults; anything you change overrides it.")
    values = presets[preset].get("values", {}) if preset else {}
    if preset and presets[preset].get("description"):
        left.caption(presets[preset]["description"])
    start = values.get("model", model_defaults("dcgan")["model"])
    model = right.selectbox("Model", MODELS, index=MODELS.index(start), key=f"train_model_{preset}",
                            help=_help("model"))
    # dataclass defaults < the model's own (FastCUT's) < preset
    defaults = {**model_defaults(model), **{k: v for k, v in values.items() if k != "model"}}
    return preset, model, defaults


def _help(name: str) -> str:
    return next(f.metadata["help"] for f in config_fields() if f.name == name)


def _float_step(value: float) -> float:
    if value <= 0:
        return 0.01
    return 10.0 ** math.floor(math.log10(value))


_WORDS = {"lr": "LR", "g": "G", "d": "D", "ema": "EMA", "ngf": "G width (ngf)", "ndf": "D width (ndf)",
          "mlp": "MLP", "bf16": "BF16 autocast", "id": "ID", "n": "Residual", "diffaugment": "DiffAugment",
          "tensorboard": "TensorBoard", "batchnorm": "BatchNorm", "dim": "dimension"}


def field_label(name: str) -> str:
    """`lr_g` -> "LR G": the form's label for a config field (its CLI flag is in the help)."""
    words = [_WORDS.get(w, w) for w in name.split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def field_widget(f: dataclasses.Field, default, key: str, disabled: bool = False):
    choices = f.metadata.get("choices")
    help_text = f"{f.metadata.get('help')}  \nCLI: `--{f.name.replace('_', '-')}`"
    if disabled:
        help_text += "  \nA fork keeps its parent's networks: this setting cannot change."
    label = field_label(f.name)
    common = dict(help=help_text, key=key, disabled=disabled)
    if choices:
        return st.selectbox(label, choices, index=list(choices).index(default) if default in choices else 0,
                            **common)
    kind = f.type if isinstance(f.type, str) else f.type.__name__  # annotations may be postponed
    if kind == "bool":
        return st.checkbox(label, value=bool(default), **common)
    if kind == "int":
        return int(st.number_input(label, value=int(default), step=1, **common))
    if kind == "float":
        return float(st.number_input(label, value=float(default), step=_float_step(float(default)),
                                     format="%g", **common))
    return st.text_input(label, value=str(default), **common)


def settings_form(preset: str, model: str, defaults: dict, dataset: str | None, fork: dict | None = None,
                  fixed: tuple[str, ...] = (), no_dataset_reason: str | None = None) -> tuple[dict, str | None]:
    """The grouped form; returns the entered values and the button pressed ("launch", "estimate" or
    None). With a fork
    (studio.fork_view), its widgets are new ones (they start from the parent's settings) and the
    `fixed` fields are greyed out. Without a dataset (None) Launch is disabled, and a caption under
    it says why (no_dataset_reason: widgets.dataset_choice's) and what to do."""
    shown = [f for f in config_fields() if f.name not in OUTSIDE_FORM and applies_to(f.name, model)]
    prefix = f"train_fork{fork['token']}" if fork else f"train_{preset}"
    values = {}
    with st.form("train_settings"):
        # A fork opens on the learning rates: what one usually changes in it.
        tabs = st.tabs(list(GROUPS.values()), default=GROUPS["training"] if fork else None,
                       key=f"{prefix}_tabs" if fork else None)
        for group, tab in zip(GROUPS, tabs):
            fields = [f for f in shown if f.metadata.get("group") == group]
            columns = tab.columns(3)
            for i, f in enumerate(fields):
                default = (dataset or "") if f.name == "data" and not defaults.get("data") else defaults[f.name]
                # Keyed by preset and model (and dataset) so choosing another one refills the defaults.
                key = f"{prefix}_{model}_{f.name}" + (f"_{dataset}" if f.name == "data" else "")
                with columns[i % 3]:
                    values[f.name] = field_widget(f, default, key, disabled=f.name in fixed)
        left, right = st.columns([1, 3])
        launched = left.form_submit_button("Launch training", type="primary",
                                           icon=":material/fork_right:" if fork else ":material/play_arrow:",
                                           disabled=dataset is None)
        estimated = right.form_submit_button("Check and estimate time", icon=":material/timer:",
                                             disabled=dataset is None,
                                             help="Checks the settings, then times a few steps of them on this "
                                                  "machine: steps per epoch, total steps and the training time.")
        if dataset is None:
            st.caption(launch_disabled_caption(no_dataset_reason))
    return values, "launch" if launched else "estimate" if estimated else None


def launch_disabled_caption(reason: str | None) -> str:
    reason = (reason or "no dataset is chosen yet").rstrip(".")
    return (f":material/block: **Launch is disabled:** {reason}. Choose a dataset on the Home page (a folder "
            f"path, an upload or a known dataset), then come back.")


def config_from_form(values: dict, preset: str, model: str, runs_dir: str) -> TrainConfig:
    """Raises ValueError (from build_config) naming every invalid setting."""
    return build_config({**values, "model": model, "runs_dir": runs_dir}, preset=preset or None)
