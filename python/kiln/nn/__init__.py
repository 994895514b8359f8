"""Kiln's PyTorch library: catalog, import, torch fallback for shapes."""
