import matplotlib.pyplot as plt
import numpy as np
from scipy.signal import lombscargle

import kiln


class Periodogram(kiln.Operation):
    """Finds the light curve's period with a Lomb–Scargle periodogram (irregular
    sampling), then plots the periodogram and the curve folded at the best period.
    """

    def __init__(self, min_period: float = 0.5, max_period: float = 20.0, n_periods: int = 4000):
        self.min_period = min_period
        self.max_period = max_period
        self.n_periods = n_periods

    def execute(self, times, flux) -> float:
        periods = np.geomspace(self.min_period, self.max_period, self.n_periods)
        power = lombscargle(times, flux - flux.mean(), 2 * np.pi / periods, normalize=True)
        best = float(periods[np.argmax(power)])
        kiln.log_metric("best_period_days", best)
        print(f"best period {best:.4f} d (power {power.max():.3f})")

        fig, ax = plt.subplots(figsize=(8, 3.5))
        ax.plot(periods, power, linewidth=0.8)
        ax.set(title="Lomb–Scargle periodogram", xlabel="period (days)", ylabel="power",
               xscale="log")
        plt.show()

        phase = (times / best) % 1.0
        order = np.argsort(phase)
        # A two-harmonic fit of the folded curve, by linear least squares.
        basis = np.column_stack([np.ones_like(phase)] + [f(2 * np.pi * k * phase)
                                 for k in (1, 2) for f in (np.sin, np.cos)])
        coef, *_ = np.linalg.lstsq(basis, flux, rcond=None)
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
        top.scatter(phase, flux, s=6, label="folded")
        top.plot(phase[order], (basis @ coef)[order], color="red", label="two-harmonic fit")
        top.set(title=f"Folded at {best:.3f} d", ylabel="flux")
        top.legend()
        bottom.scatter(phase, flux - basis @ coef, s=6)
        bottom.set(xlabel="phase", ylabel="residual")
        plt.show()
        period = best
        return period
