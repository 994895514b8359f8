"""VisualizeEmbeddings: the 3-D t-SNE embedding, each galaxy coloured by its error.

A matplotlib 3-D scatter (rotatable in the browser where Kiln shows 3-D figures) of
the embedding, coloured by |Δz| / (1 + z); a second view coloured by true z shows the
redshift sequence the network learned. Returns summary statistics as JSON.
"""
import matplotlib.pyplot as plt
import numpy as np

import kiln


class VisualizeEmbeddings(kiln.Operation):
    """A 3-D scatter of the learned features' embedding coloured by the redshift error."""

    def __init__(self, outlier_threshold=0.05):
        self.outlier_threshold = outlier_threshold

    def execute(self, embedding, z_true, z_pred) -> dict:
        if embedding.ndim != 2 or embedding.shape[1] != 3:
            raise ValueError(f"need a 3-D embedding [N, 3], got shape {embedding.shape}")
        error = np.abs(z_pred - z_true) / (1 + z_true)
        for colour, label, cmap in ((error, "|Δz| / (1 + z)", "inferno"),
                                    (z_true, "true z", "viridis")):
            fig = plt.figure(figsize=(6.5, 5.5))
            ax = fig.add_subplot(projection="3d")
            points = ax.scatter(embedding[:, 0], embedding[:, 1], embedding[:, 2], c=colour,
                                cmap=cmap, s=8)
            fig.colorbar(points, ax=ax, label=label, shrink=0.7)
            ax.set(xlabel="t-SNE 1", ylabel="t-SNE 2", zlabel="t-SNE 3",
                   title=f"Learned features, coloured by {label}")
            plt.show()
        outliers = error > self.outlier_threshold
        summary = {"galaxies": int(len(error)), "outliers": int(outliers.sum()),
                   "median_error": float(np.median(error)),
                   "max_error": float(error.max())}
        print(f"{summary['outliers']} of {summary['galaxies']} galaxies are outliers "
              f"(|Δz|/(1+z) > {self.outlier_threshold})")
        return summary
