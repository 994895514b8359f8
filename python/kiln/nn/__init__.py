"""The PyTorch library's Python side: the layer catalog generator and architecture tools."""
