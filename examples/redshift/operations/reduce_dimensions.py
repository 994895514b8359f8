"""ReduceDimensions: t-SNE of the network's learned features, to 3-D.

The features are the penultimate layer: a forward hook on the architecture's last
Linear layer catches its input (for the Inception network, the second 1024-wide
(here narrower) PReLU layer), for the validation galaxies. scikit-learn's t-SNE maps
them to ``n_components`` dimensions. Returns ``embedding`` (float32 [N, 3]).
"""
import numpy as np
import torch
from sklearn.manifold import TSNE

import kiln


class ReduceDimensions(kiln.Operation):
    """t-SNE of the penultimate-layer features of the validation galaxies."""

    def __init__(self, net: kiln.Architecture, n_components=3, perplexity=30.0, seed=0):
        self.net = net
        self.n_components = n_components
        self.perplexity = perplexity
        self.seed = seed

    def execute(self, model, cubes, val_index):
        torch.manual_seed(self.seed)
        net = self.net()
        net.load_state_dict(model)
        net.eval()
        linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
        if not linears:
            raise ValueError("the architecture has no Linear layer to take features before")
        caught = []
        hook = linears[-1].register_forward_hook(
            lambda module, inputs, output: caught.append(inputs[0].detach()))
        x = torch.from_numpy(np.ascontiguousarray(cubes[val_index]))
        with torch.no_grad():
            for start in range(0, len(x), 256):
                net(x[start:start + 256])
        hook.remove()
        features = torch.cat(caught).numpy().astype(np.float64)
        perplexity = min(self.perplexity, (len(features) - 1) / 3)  # t-SNE needs more points
        embedding = TSNE(n_components=self.n_components, perplexity=perplexity,
                         init="pca", random_state=self.seed).fit_transform(features)
        print(f"{features.shape[1]} features of {len(features)} galaxies → "
              f"{self.n_components}-D (perplexity {perplexity:g})")
        embedding = embedding.astype(np.float32)
        return embedding
