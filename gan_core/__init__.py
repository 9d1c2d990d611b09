"""gan_core: the Monet GAN Studio engine. Importable without Streamlit."""
import os

# OpenMP threads spin while they wait for work. When training shares the cores with anything
# else (the studio, an export, a second job) spinning threads starve the others: one measured
# CycleGAN step went from 3 s to 47 s. Passive waiting costs nothing measurable when idle.
# It must be set before torch loads OpenMP, hence here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
