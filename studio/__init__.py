"""The Streamlit studio's glue: the process-wide job registry (jobs), shared widgets (widgets) and
the small helpers pages use. Pages live in pages/ and stay thin views over gan_core."""
