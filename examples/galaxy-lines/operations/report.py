import matplotlib.pyplot as plt
import numpy as np

import kiln


class Report(kiln.Operation):
    """Checks the analysis against the simulation's truth: fitted vs true
    redshifts, their pulls, and the recovered period. Returns the summary."""

    def __init__(self, true_period_days: float = 3.7):
        self.true_period_days = true_period_days

    def execute(self, fits: list, truth: list, period: float) -> dict:
        z_fit = np.array([f["redshift"] for f in fits])
        z_err = np.array([f["redshift_err"] for f in fits])
        z_true = np.array([t["redshift"] for t in truth])
        pulls = (z_fit - z_true) / np.maximum(z_err, 1e-12)

        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
        left.scatter(z_true, z_fit, label="spectra")
        lo, hi = float(z_true.min()), float(z_true.max())
        left.plot([lo, hi], [lo, hi], color="black", linewidth=0.8, label="1:1")
        left.set(title="Fitted vs true redshift", xlabel="true z", ylabel="fitted z")
        left.legend()
        right.scatter(np.arange(pulls.size), pulls)
        right.plot([0, pulls.size - 1], [0, 0], color="black", linewidth=0.8)
        right.set(title="Pulls (fit − truth) / error", xlabel="spectrum", ylabel="pull")
        plt.show()

        summary = {
            "spectra": len(fits),
            "median_reduced_chi2": round(float(np.median([f["reduced_chi2"] for f in fits])), 3),
            "max_abs_redshift_error": float(np.max(np.abs(z_fit - z_true))),
            "pull_rms": round(float(np.sqrt(np.mean(pulls ** 2))), 3),
            "period_days": round(period, 4),
            "period_error_days": round(abs(period - self.true_period_days), 4),
        }
        for k, v in summary.items():
            print(f"{k}: {v}")
        return summary
