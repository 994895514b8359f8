"""Normalises a spectrum: loads it from the file, scales it."""
import math, json as j
from statistics import mean  # from here on: stdlib only


class Normalise:
    def __init__(self, scale: float = 1.0, name=f"{'x'!r}"):
        self.scale = scale

    @staticmethod
    def execute(values: "list[float]") -> list:
        m = mean(values) or 1
        out = [v / m * math.e for v in values]; r = rb'\'import torch'
        return out
