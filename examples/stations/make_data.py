#!/usr/bin/env python3
"""Writes data/stations.csv: a year of daily readings from three weather
stations (synthetic, seeded, so the file is the same on every machine).

    /usr/bin/python3 examples/stations/make_data.py
"""
import datetime
import math
import pathlib
import random

STATIONS = [  # name, mean temperature (°C), seasonal swing, rain chance, mean wind (m/s)
    ("Harbour", 11.0, 7.0, 0.45, 6.5),
    ("Valley", 9.5, 11.0, 0.30, 3.0),
    ("Summit", 2.0, 9.0, 0.55, 9.0),
]


def main():
    rng = random.Random(20260101)
    rows = ["date,station,temperature_c,rain_mm,wind_ms"]
    start = datetime.date(2025, 1, 1)
    for day in range(365):
        date = start + datetime.timedelta(days=day)
        season = -math.cos(2 * math.pi * (day + 10) / 365)  # coldest in early January
        for name, mean, swing, rain_p, wind in STATIONS:
            temp = mean + swing * season + rng.gauss(0, 2.0)
            rain = rng.expovariate(1 / 6.0) if rng.random() < rain_p else 0.0
            gust = max(0.0, rng.gauss(wind, wind / 3))
            rows.append(f"{date.isoformat()},{name},{temp:.1f},{rain:.1f},{gust:.1f}")
    out = pathlib.Path(__file__).resolve().parent / "data" / "stations.csv"
    out.write_text("\n".join(rows) + "\n")
    print(f"wrote {out} ({len(rows) - 1} rows)")


if __name__ == "__main__":
    main()
