"""QueryCatalog: the CasJobs step — select galaxies of the survey's catalogue by redshift.

Reads ``catalog.fits`` of the survey (a dict of FITS bytes, GenerateSurvey) and returns
the selected rows as JSON: [{objid, ra, dec, z, type, r_mag}], sorted by objid.
"""
import io

import numpy as np
from astropy.io import fits

import kiln


class QueryCatalog(kiln.Operation):
    """Selects the galaxies with z_min ≤ z < z_max (at most ``limit``; 0 = all),
    like a CasJobs query on the SDSS catalogue."""

    def __init__(self, z_min=0.0, z_max=0.4, limit=0):
        self.z_min = z_min
        self.z_max = z_max
        self.limit = limit

    def execute(self, survey) -> list:
        if "catalog.fits" not in survey:
            raise ValueError("the survey has no catalog.fits (is the input GenerateSurvey's?)")
        if self.z_max <= self.z_min or self.limit < 0:
            raise ValueError(f"need z_min < z_max and limit ≥ 0, got z_min={self.z_min}, "
                             f"z_max={self.z_max}, limit={self.limit}")
        with fits.open(io.BytesIO(survey["catalog.fits"])) as hdus:
            table = hdus["CATALOG"].data
            z = np.asarray(table["z"], dtype=float)
            chosen = np.flatnonzero((z >= self.z_min) & (z < self.z_max))
            if self.limit:
                chosen = chosen[:self.limit]
            catalog = [{"objid": int(table["objid"][i]), "ra": float(table["ra"][i]),
                     "dec": float(table["dec"][i]), "z": float(table["z"][i]),
                     "type": str(table["type"][i]).strip(), "r_mag": float(table["r_mag"][i])}
                    for i in chosen]
        print(f"SELECT objid, ra, dec, z FROM catalog WHERE z >= {self.z_min} AND z < "
              f"{self.z_max}{f' LIMIT {self.limit}' if self.limit else ''}: "
              f"{len(catalog)} of {len(z)} galaxies")
        if not catalog:
            raise ValueError(f"no galaxy with {self.z_min} ≤ z < {self.z_max}")
        return catalog
