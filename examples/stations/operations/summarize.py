import numpy as np

import kiln


class Summarize(kiln.Operation):
    """Summarizes every numeric column, per group (e.g. per station) and overall.

    For each column: count, mean, standard deviation, min, max; for a column
    named in `total_columns` also the sum (rain adds up over a year).
    """

    def __init__(self, group_by: str = "station", total_columns: list = ["rain_mm"]):
        self.group_by = group_by
        self.total_columns = total_columns

    def execute(self, table: dict) -> dict:
        if self.group_by and self.group_by not in table:
            raise KeyError(f"no column {self.group_by!r} to group by (columns: {', '.join(table)})")
        numeric = [n for n, v in table.items()
                   if n != self.group_by and any(isinstance(x, float) for x in v)]
        n_rows = len(next(iter(table.values()), []))
        keys = table[self.group_by] if self.group_by else ["all"] * n_rows
        groups = {g: [i for i, k in enumerate(keys) if k == g] for g in dict.fromkeys(keys)}
        groups["all"] = list(range(n_rows))
        summary = {}
        for group, rows in groups.items():
            stats = {"rows": len(rows)}
            for col in numeric:
                values = np.array([table[col][i] for i in rows if table[col][i] is not None])
                s = {"count": int(values.size)}
                if values.size:
                    s.update(mean=round(float(values.mean()), 3), std=round(float(values.std()), 3),
                             min=float(values.min()), max=float(values.max()))
                    if col in self.total_columns:
                        s["sum"] = round(float(values.sum()), 1)
                stats[col] = s
            summary[group] = stats
        width = max(len(str(g)) for g in summary)
        print(f"{'':{width}}  " + "  ".join(f"{c:>22}" for c in numeric))
        for group, stats in summary.items():
            cells = [f"{stats[c].get('mean', float('nan')):8.2f} ± {stats[c].get('std', 0):6.2f}"
                     for c in numeric]
            print(f"{group:{width}}  " + "  ".join(f"{c:>22}" for c in cells))
        return summary
