"""VisualizePredictions: the network's redshift distributions for a few galaxies.

Draws the softmax output (probability per redshift bin) of ``n_examples`` validation
galaxies, chosen at evenly spaced true redshifts, with their true z and the estimate
(the expectation over the bins). Returns the examples shown as JSON.
"""
import matplotlib.pyplot as plt
import numpy as np

import kiln


class VisualizePredictions(kiln.Operation):
    """The softmax distributions of a few validation galaxies against their true z."""

    def __init__(self, n_examples=5, z_max=0.4):
        self.n_examples = n_examples
        self.z_max = z_max

    def execute(self, pdf, z_true, z_pred) -> list:
        n_bins = pdf.shape[1]
        centres = (np.arange(n_bins) + 0.5) * self.z_max / n_bins
        by_z = np.argsort(z_true)
        shown = by_z[np.linspace(0, len(by_z) - 1, min(self.n_examples, len(by_z))).astype(int)]
        fig, axes = plt.subplots(len(shown), 1, figsize=(7, 1.6 * len(shown)), sharex=True,
                                 squeeze=False)
        examples = []
        for ax, i in zip(axes[:, 0], shown):
            ax.bar(centres, pdf[i], width=self.z_max / n_bins * 0.9, color="tab:blue")
            ax.axvline(z_true[i], color="black", label="true z")
            ax.axvline(z_pred[i], color="tab:orange", linestyle="--", label="estimate")
            ax.set_ylabel("p")
            ax.text(0.99, 0.8, f"true {z_true[i]:.3f}, estimate {z_pred[i]:.3f}",
                    transform=ax.transAxes, ha="right", fontsize=8)
            examples.append({"validation_row": int(i), "z_true": float(z_true[i]),
                             "z_pred": float(z_pred[i]), "pdf": [float(p) for p in pdf[i]]})
        axes[0, 0].legend(loc="upper left", fontsize=8)
        axes[-1, 0].set_xlabel("redshift")
        fig.suptitle(f"Redshift probability over the {n_bins} bins")
        plt.show()
        for e in examples:
            print(f"galaxy {e['validation_row']}: true z {e['z_true']:.3f}, "
                  f"estimate {e['z_pred']:.3f}")
        return examples
