import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import curve_fit

import kiln

REST = np.array([6548.05, 6562.80, 6583.45])  # [N II], Hα, [N II] (Å)


def model(wl, c0, c1, z, sigma, a_n2a, a_ha, a_n2b):
    out = c0 + c1 * (wl - 6580.0)
    for rest, amp in zip(REST, (a_n2a, a_ha, a_n2b)):
        out = out + amp * np.exp(-0.5 * ((wl - rest * (1 + z)) / sigma) ** 2)
    return out


class FitLines(kiln.Operation):
    """Fits each spectrum: a linear continuum and three Gaussian lines sharing
    one redshift and width. One figure per spectrum (data, fit, residuals),
    streamed as each fit finishes; the reduced χ² and the redshift as metrics.
    """

    def __init__(self, noise: float = 0.04, max_evaluations: int = 5000):
        self.noise = noise
        self.max_evaluations = max_evaluations

    def execute(self, wavelength, spectra):
        fits = []
        for i, flux in enumerate(spectra):
            # Start from the brightest pixel, read as Hα.
            z0 = wavelength[np.argmax(flux)] / REST[1] - 1
            p0 = [np.median(flux), 0.0, z0, 2.0, 0.1, float(flux.max() - np.median(flux)), 0.3]
            params, cov = curve_fit(model, wavelength, flux, p0=p0, maxfev=self.max_evaluations)
            fitted = model(wavelength, *params)
            resid = flux - fitted
            chi2 = float(np.sum((resid / self.noise) ** 2) / (flux.size - len(params)))
            z, z_err = float(params[2]), float(np.sqrt(cov[2, 2]))
            kiln.log_metric("reduced_chi2", chi2, step=i)
            kiln.log_metric("redshift", z, step=i)
            fits.append({"spectrum": i, "redshift": z, "redshift_err": z_err,
                         "sigma": float(abs(params[3])), "halpha": float(params[5]),
                         "reduced_chi2": chi2, "residual_rms": float(resid.std())})
            print(f"spectrum {i}: z = {z:.5f} ± {z_err:.5f}, χ²/dof = {chi2:.2f}")

            fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True,
                                              gridspec_kw={"height_ratios": [3, 1]})
            top.plot(wavelength, flux, linewidth=0.8, label="data")
            top.plot(wavelength, fitted, linewidth=1.5, label="fit")
            top.set(title=f"Spectrum {i}: z = {z:.5f}", ylabel="flux")
            top.legend()
            bottom.plot(wavelength, resid, linewidth=0.8, label="residual")
            bottom.plot(wavelength, np.zeros_like(wavelength), linewidth=0.8, color="black")
            bottom.set(xlabel="wavelength (Å)", ylabel="data − fit")
            plt.show()
        return fits
