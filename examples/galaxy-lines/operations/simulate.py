import matplotlib.pyplot as plt
import numpy as np

import kiln

# Rest wavelengths (Å) of Hα and the [N II] doublet.
LINES = {"[N II] 6548": 6548.05, "Hα": 6562.80, "[N II] 6583": 6583.45}


class Simulate(kiln.Operation):
    """Synthetic observations: galaxy spectra around Hα and a variable star's light curve.

    Each spectrum has a sloped continuum, three emission lines at a random
    redshift (z < 0.004) and Gaussian noise; the light curve is a periodic
    signal sampled at irregular times. The truth is returned beside the data
    so that later steps can be checked against it.
    """

    def __init__(self, n_spectra: int = 6, n_points: int = 400, noise: float = 0.04,
                 period_days: float = 3.7, seed: int = 7):
        self.n_spectra = n_spectra
        self.n_points = n_points
        self.noise = noise
        self.period_days = period_days
        self.seed = seed

    def execute(self):
        rng = np.random.default_rng(self.seed)
        wavelength = np.linspace(6520.0, 6640.0, self.n_points)
        spectra = np.empty((self.n_spectra, self.n_points))
        truth = []
        for i in range(self.n_spectra):
            z = float(rng.uniform(0.0005, 0.004))
            sigma = float(rng.uniform(1.5, 3.0))
            ha = float(rng.uniform(0.6, 1.4))
            flux = 1.0 + 0.002 * (wavelength - 6580.0)
            for name, rest in LINES.items():
                amp = ha if name == "Hα" else ha * (0.33 if "6583" in name else 0.11)
                flux += amp * np.exp(-0.5 * ((wavelength - rest * (1 + z)) / sigma) ** 2)
            spectra[i] = flux + rng.normal(0.0, self.noise, self.n_points)
            truth.append({"redshift": z, "sigma": sigma, "halpha": ha})
        times = np.sort(rng.uniform(0.0, 60.0, 300))
        flux_lc = (10.0 + 0.8 * np.sin(2 * np.pi * times / self.period_days)
                   + 0.3 * np.sin(4 * np.pi * times / self.period_days + 0.7)
                   + rng.normal(0.0, 0.25, times.size))

        fig, ax = plt.subplots(figsize=(8, 5))
        for i, s in enumerate(spectra):
            ax.plot(wavelength, s + 0.8 * i, linewidth=0.8, label=f"spectrum {i}")
        ax.set(title="Simulated spectra (offset for clarity)", xlabel="wavelength (Å)",
               ylabel="flux + offset")
        ax.legend(fontsize="small")
        plt.show()

        fig, ax = plt.subplots(figsize=(8, 3.5))
        ax.scatter(times, flux_lc, s=6)
        ax.set(title="Light curve", xlabel="time (days)", ylabel="flux")
        plt.show()
        print(f"simulated {self.n_spectra} spectra of {self.n_points} points and a light curve "
              f"of {times.size} points (true period {self.period_days} d)")
        return wavelength, spectra, truth, times, flux_lc
