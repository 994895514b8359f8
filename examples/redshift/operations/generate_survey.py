"""GenerateSurvey: a synthetic five-band imaging survey, written as real FITS files.

Stands in for the SDSS images of Pasquet et al. 2019 (no network here). Each galaxy
is drawn at a redshift z in (0, 0.4] and gets, in a flat ΛCDM cosmology (astropy):

* colours from a rest-frame spectrum with a 4000 Å break (red early types, blue
  late types) averaged over the u, g, r, i, z passbands at λ_obs / (1 + z): as the
  break moves from between u and g (z ≈ 0) to between g and r (z ≈ 0.4), u−g and
  g−r redden;
* brightness from an absolute magnitude and the luminosity distance;
* an angular size from a physical half-light radius and the angular-diameter
  distance, on a Sérsic profile (n = 4 early, n = 1 exponential late), inclined;
* a Gaussian PSF per band and Gaussian sky noise per band (u and z noisiest).

Output ``survey``: a dict {file name: FITS bytes} — ``catalog.fits`` (a binary table:
objid, ra, dec, z, type, r_mag, half_light_arcsec) and ``images/<objid>-<band>.fits``
(a float32 image with a TAN WCS, BAND, PSF_FWHM, NOISE, MAGZP keywords). Each value
opens with ``astropy.io.fits.open(io.BytesIO(value))``. Seeded: the same everywhere.
"""
import io

import matplotlib.pyplot as plt
import numpy as np
from astropy.cosmology import FlatLambdaCDM
from astropy.io import fits
from scipy.ndimage import gaussian_filter

import kiln

BANDS = "ugriz"
# Passbands (Å): SDSS-like centres and widths.
BAND_CENTRES = np.array([3560.0, 4680.0, 6180.0, 7500.0, 8870.0])
BAND_WIDTHS = np.array([600.0, 1300.0, 1200.0, 1300.0, 1000.0])
PSF_FWHM_ARCSEC = np.array([1.5, 1.4, 1.3, 1.25, 1.2])  # seeing is worse in the blue
NOISE_COUNTS = np.array([6.0, 2.0, 2.0, 2.5, 5.0])  # sky noise per pixel, counts
MAG_ZERO_POINT = 28.0  # counts = 10 ** (-0.4 * (mag - MAG_ZERO_POINT))


def rest_frame_fnu(wavelength, early, slope):
    """f_ν of a toy galaxy spectrum: a power law with a smoothed 4000 Å break."""
    break_depth = np.where(early, 0.3, 0.75)[:, None]
    step = 1.0 / (1.0 + np.exp(-(wavelength - 4000.0) / 120.0))  # 0 blue-ward, 1 red-ward
    return (wavelength / 5000.0) ** slope[:, None] * (break_depth + (1 - break_depth) * step)


def band_fluxes(z, early, slope):
    """Relative f_ν in each band, the spectrum averaged over the passband."""
    offsets = np.linspace(-0.5, 0.5, 9)
    out = np.empty((len(z), len(BANDS)))
    for b in range(len(BANDS)):
        observed = BAND_CENTRES[b] + offsets * BAND_WIDTHS[b]
        rest = observed[None, :] / (1.0 + z[:, None])
        out[:, b] = np.mean(rest_frame_fnu(rest, early, slope), axis=1)
    return out / out[:, 2:3]  # relative to r


def sersic_image(size, x0, y0, radius_px, n, axis_ratio, angle):
    """A Sérsic profile of unit total flux on a size×size pixel grid."""
    y, x = np.mgrid[0:size, 0:size].astype(float)
    dx, dy = x - x0, y - y0
    c, s = np.cos(angle), np.sin(angle)
    major, minor = dx * c + dy * s, -dx * s + dy * c
    r = np.sqrt(major ** 2 + (minor / axis_ratio) ** 2)
    b_n = 2.0 * n - 1.0 / 3.0
    image = np.exp(-b_n * ((r / radius_px) ** (1.0 / n) - 1.0))
    return image / image.sum()


def fits_bytes(hdu):
    buffer = io.BytesIO()
    hdu.writeto(buffer)
    return buffer.getvalue()


class GenerateSurvey(kiln.Operation):
    """A synthetic ugriz survey: one FITS image per galaxy and band, and a catalogue
    with the true redshifts (0 < z ≤ 0.4). Colours, brightness and size depend on z."""

    def __init__(self, n_galaxies=1600, image_pixels=48, pixel_scale_arcsec=0.396, seed=0):
        self.n_galaxies = n_galaxies
        self.image_pixels = image_pixels
        self.pixel_scale_arcsec = pixel_scale_arcsec
        self.seed = seed

    def execute(self):
        if self.n_galaxies < 1 or self.image_pixels < 16:
            raise ValueError("n_galaxies must be ≥ 1 and image_pixels ≥ 16, got "
                             f"{self.n_galaxies} and {self.image_pixels}")
        rng = np.random.default_rng(self.seed)
        n, size, scale = self.n_galaxies, self.image_pixels, self.pixel_scale_arcsec
        cosmology = FlatLambdaCDM(H0=70, Om0=0.3)

        # Redshifts like a magnitude-limited sample: dN/dz ∝ z² exp(−(z/0.15)^1.5).
        grid = np.linspace(0.005, 0.4, 4000)
        density = grid ** 2 * np.exp(-(grid / 0.15) ** 1.5)
        cdf = np.cumsum(density) / density.sum()
        z = np.interp(rng.random(n), cdf, grid)

        early = rng.random(n) < 0.4
        slope = np.where(early, rng.normal(2.0, 0.3, n), rng.normal(0.6, 0.3, n))
        absolute_r = np.where(early, rng.normal(-21.3, 0.7, n), rng.normal(-20.8, 0.8, n))
        distance_modulus = cosmology.distmod(z).value
        r_mag = absolute_r + distance_modulus
        radius_kpc = np.exp(rng.normal(np.log(np.where(early, 3.0, 4.5)), 0.3))
        kpc_per_arcsec = cosmology.kpc_proper_per_arcmin(z).value / 60.0
        half_light_arcsec = radius_kpc / kpc_per_arcsec
        radius_px = np.clip(half_light_arcsec / scale, 0.4, size / 4)
        fluxes = band_fluxes(z, early, slope) * 10 ** (-0.4 * (r_mag - MAG_ZERO_POINT))[:, None]
        axis_ratio = rng.uniform(0.3, 1.0, n)
        angle = rng.uniform(0, np.pi, n)
        centre = (size - 1) / 2 + rng.uniform(-1.5, 1.5, (n, 2))  # not exactly centred
        ra = rng.uniform(150.0, 160.0, n)
        dec = rng.uniform(0.0, 10.0, n)
        psf_sigma_px = PSF_FWHM_ARCSEC / scale / 2.3548

        survey = {}
        examples = []
        for i in range(n):
            profile = sersic_image(size, centre[i, 0], centre[i, 1], radius_px[i],
                                   4.0 if early[i] else 1.0, axis_ratio[i], angle[i])
            for b, band in enumerate(BANDS):
                image = gaussian_filter(profile, psf_sigma_px[b]) * fluxes[i, b]
                image += rng.normal(0.0, NOISE_COUNTS[b], image.shape)
                hdu = fits.PrimaryHDU(image.astype(np.float32))
                h = hdu.header
                # The galaxy sits at (ra, dec) = the centre pixel (FITS pixels count from 1).
                h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
                h["CRPIX1"], h["CRPIX2"] = centre[i, 0] + 1, centre[i, 1] + 1
                h["CRVAL1"], h["CRVAL2"] = ra[i], dec[i]
                h["CDELT1"], h["CDELT2"] = -scale / 3600.0, scale / 3600.0
                h["CUNIT1"], h["CUNIT2"] = "deg", "deg"
                h["OBJID"] = (i, "catalogue id")
                h["BAND"] = (band, "SDSS-like passband")
                h["PSF_FWHM"] = (float(PSF_FWHM_ARCSEC[b]), "Gaussian PSF FWHM, arcsec")
                h["NOISE"] = (float(NOISE_COUNTS[b]), "sky noise per pixel, counts")
                h["MAGZP"] = (MAG_ZERO_POINT, "mag = MAGZP - 2.5 log10(counts)")
                h["BUNIT"] = "counts"
                survey[f"images/{i:06d}-{band}.fits"] = fits_bytes(hdu)
                if i < 3:
                    examples.append(image)
            if (i + 1) % 100 == 0 or i + 1 == n:
                kiln.progress(i + 1, n)

        columns = [
            fits.Column(name="objid", format="J", array=np.arange(n)),
            fits.Column(name="ra", format="D", unit="deg", array=ra),
            fits.Column(name="dec", format="D", unit="deg", array=dec),
            fits.Column(name="z", format="E", array=z.astype(np.float32)),
            fits.Column(name="type", format="8A", array=np.where(early, "early", "late")),
            fits.Column(name="r_mag", format="E", array=r_mag.astype(np.float32)),
            fits.Column(name="half_light_arcsec", format="E", unit="arcsec",
                        array=half_light_arcsec.astype(np.float32)),
        ]
        table = fits.BinTableHDU.from_columns(columns, name="CATALOG")
        survey["catalog.fits"] = fits_bytes(fits.HDUList([fits.PrimaryHDU(), table]))

        fig, axes = plt.subplots(min(3, n), len(BANDS), figsize=(10, 2 * min(3, n)),
                                 squeeze=False)
        for row in range(min(3, n)):
            for b, band in enumerate(BANDS):
                ax = axes[row, b]
                ax.imshow(np.arcsinh(examples[row * len(BANDS) + b] / NOISE_COUNTS[b]),
                          cmap="gray", origin="lower")
                ax.set_xticks([]), ax.set_yticks([])
                ax.set_title(f"{band}  z={z[row]:.3f}", fontsize=8)
        fig.suptitle("Galaxies of the survey (asinh stretch)")
        plt.show()

        fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
        ax[0].hist(z, bins=40, color="gray")
        ax[0].set(title="Redshift distribution", xlabel="z", ylabel="galaxies")
        colour = -2.5 * np.log10(np.maximum(fluxes[:, 1], 1e-9) / np.maximum(fluxes[:, 2], 1e-9))
        ax[1].scatter(z, colour, s=3, c=np.where(early, "tab:red", "tab:blue"))
        ax[1].set(title="g − r colour reddens with z", xlabel="z", ylabel="g − r (mag)")
        plt.show()
        print(f"{n} galaxies, {n * len(BANDS)} FITS images of {size}×{size} pixels, "
              f"z from {z.min():.3f} to {z.max():.3f}, r from {r_mag.min():.1f} "
              f"to {r_mag.max():.1f} mag")
        return survey
