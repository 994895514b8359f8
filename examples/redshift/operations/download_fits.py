"""DownloadFits: fetch the five FITS images (u, g, r, i, z) of each selected galaxy.

The survey stands in for the SDSS archive: the files come from its dict of FITS bytes.
Returns ``fits_files``: {"<objid>-<band>.fits": bytes}, five per catalogue row.
"""
import kiln

BANDS = "ugriz"


class DownloadFits(kiln.Operation):
    """Fetches each catalogue galaxy's five FITS images from the survey."""

    def execute(self, survey, catalog) -> dict:
        fits_files = {}
        missing = []
        for k, row in enumerate(catalog):
            for band in BANDS:
                name = f"{row['objid']:06d}-{band}.fits"
                data = survey.get("images/" + name)
                if data is None:
                    missing.append(name)
                else:
                    fits_files[name] = data
            if (k + 1) % 200 == 0 or k + 1 == len(catalog):
                kiln.progress(k + 1, len(catalog))
        if missing:
            raise ValueError(f"{len(missing)} images are not in the survey, e.g. {missing[:3]}")
        size = sum(len(v) for v in fits_files.values())
        print(f"fetched {len(fits_files)} FITS files ({size / 1e6:.1f} MB) "
              f"for {len(catalog)} galaxies")
        return fits_files
