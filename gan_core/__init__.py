"""gan_core: the Monet GAN Studio engine. Importable without Streamlit."""
__version__ = "0.1.0"
