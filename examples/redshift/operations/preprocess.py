"""Preprocess: FITS images → normalised 5×64×64 cubes, torch order (N, C, H, W).

For each catalogue galaxy: open its five FITS files (astropy), find the galaxy's pixel
position from its (ra, dec) through the image's WCS, resample a ``field_arcsec`` wide
square around it onto ``size``×``size`` pixels (bilinear), and stretch each band with
asinh(counts / sky noise) — a flux scale that keeps colours and faint outskirts.
Returns ``cubes`` (float32 [N, 5, size, size], bands u, g, r, i, z) and ``redshifts``
(float32 [N], the catalogue's true z).
"""
import io

import matplotlib.pyplot as plt
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from scipy.ndimage import map_coordinates

import kiln

BANDS = "ugriz"


class Preprocess(kiln.Operation):
    """Resamples each galaxy's five bands around its centre to size×size and stacks
    them into a normalised cube."""

    def __init__(self, size=64, field_arcsec=19.0):
        self.size = size
        self.field_arcsec = field_arcsec

    def execute(self, fits_files, catalog):
        n = len(catalog)
        cubes = np.empty((n, len(BANDS), self.size, self.size), dtype=np.float32)
        offsets = (np.arange(self.size) - (self.size - 1) / 2) / self.size  # in fields
        for k, row in enumerate(catalog):
            for b, band in enumerate(BANDS):
                name = f"{row['objid']:06d}-{band}.fits"
                if name not in fits_files:
                    raise ValueError(f"no FITS file {name} for catalogue galaxy {row['objid']}")
                with fits.open(io.BytesIO(fits_files[name])) as hdus:
                    header, image = hdus[0].header, hdus[0].data.astype(np.float64)
                if b == 0:  # the bands share one WCS: locate the galaxy once
                    wcs = WCS(header)
                    x, y = wcs.world_to_pixel_values(row["ra"], row["dec"])
                    step = self.field_arcsec / (abs(header["CDELT1"]) * 3600.0)
                    rows_, cols_ = np.meshgrid(y + offsets * step, x + offsets * step,
                                               indexing="ij")
                sampled = map_coordinates(image, [rows_, cols_], order=1, mode="nearest")
                cubes[k, b] = np.arcsinh(sampled / header["NOISE"])
            if (k + 1) % 200 == 0 or k + 1 == n:
                kiln.progress(k + 1, n)
        redshifts = np.array([row["z"] for row in catalog], dtype=np.float32)

        fig, axes = plt.subplots(1, len(BANDS), figsize=(10, 2.4))
        for b, band in enumerate(BANDS):
            axes[b].imshow(cubes[0, b], cmap="magma", origin="lower")
            axes[b].set_title(f"{band} ({self.size}×{self.size})", fontsize=9)
            axes[b].set_xticks([]), axes[b].set_yticks([])
        fig.suptitle(f"Cube of galaxy {catalog[0]['objid']} (z = {redshifts[0]:.3f})")
        plt.show()
        print(f"{n} cubes of shape {tuple(cubes.shape[1:])}, values "
              f"{cubes.min():.2f} to {cubes.max():.2f}")
        return cubes, redshifts
