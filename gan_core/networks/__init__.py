"""Architectures, one per file. Pure nn.Modules: no training logic here."""
