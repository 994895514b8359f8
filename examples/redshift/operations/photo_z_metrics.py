"""PhotoZMetrics: the field's measures of photometric-redshift quality.

With Δz = (z_pred − z_true) / (1 + z_true): bias = mean Δz, σ_MAD = 1.4826 ·
median |Δz − median Δz|, outlier fraction = share with |Δz| > ``outlier_threshold``
(0.05 as in Pasquet et al. 2019). The same for the baseline that predicts every
galaxy's redshift as the mean true z, to show what the network learned. Logged as
metrics; a predicted-vs-true 2-D density plot; returns them as JSON.
"""
import matplotlib.pyplot as plt
import numpy as np

import kiln


def photo_z_scores(z_true, z_pred, outlier_threshold):
    dz = (np.asarray(z_pred, float) - np.asarray(z_true, float)) / (1 + np.asarray(z_true, float))
    return {"bias": float(np.mean(dz)),
            "sigma_mad": float(1.4826 * np.median(np.abs(dz - np.median(dz)))),
            "outlier_fraction": float(np.mean(np.abs(dz) > outlier_threshold))}


class PhotoZMetrics(kiln.Operation):
    """Bias, σ_MAD and outlier fraction of the estimates, against the predict-the-mean
    baseline, with a predicted-vs-true density plot."""

    def __init__(self, outlier_threshold=0.05, z_max=0.4):
        self.outlier_threshold = outlier_threshold
        self.z_max = z_max

    def execute(self, z_true, z_pred) -> dict:
        if len(z_true) != len(z_pred) or len(z_true) == 0:
            raise ValueError(f"need as many estimates as true redshifts (> 0), got "
                             f"{len(z_pred)} and {len(z_true)}")
        network = photo_z_scores(z_true, z_pred, self.outlier_threshold)
        baseline = photo_z_scores(z_true, np.full(len(z_true), np.mean(z_true)),
                                  self.outlier_threshold)
        metrics = {**network, "galaxies": len(z_true),
                   **{"baseline_" + k: v for k, v in baseline.items()}}
        for name, value in metrics.items():
            if name != "galaxies":
                kiln.log_metric(name, value)
            print(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}")

        fig, ax = plt.subplots(figsize=(5.5, 5))
        bins = np.linspace(0, self.z_max, 41)
        counts, _, _, image = ax.hist2d(z_true, z_pred, bins=[bins, bins], cmap="viridis",
                                        cmin=1)
        ax.plot([0, self.z_max], [0, self.z_max], color="black", linewidth=0.8)
        for sign in (-1, 1):  # the outlier boundary |Δz| = threshold · (1 + z)
            zs = np.linspace(0, self.z_max, 50)
            ax.plot(zs, zs + sign * self.outlier_threshold * (1 + zs), color="gray",
                    linewidth=0.6, linestyle="--")
        fig.colorbar(image, ax=ax, label="galaxies")
        ax.set(xlabel="true z", ylabel="estimated z", xlim=(0, self.z_max),
               ylim=(0, self.z_max),
               title=f"σ_MAD {network['sigma_mad']:.4f} (mean: {baseline['sigma_mad']:.4f}), "
                     f"outliers {network['outlier_fraction']:.1%}")
        plt.show()
        return metrics
