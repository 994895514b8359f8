#include "runs/downsample.h"

#include <cmath>

namespace kiln {

std::vector<MetricPoint> Downsample(const std::vector<MetricPoint>& series, size_t max_points) {
  if (max_points < 4 || series.size() <= max_points) return series;
  // Two points a bucket, less the first and the last.
  size_t buckets = (max_points - 2) / 2;
  size_t inner = series.size() - 2;
  std::vector<MetricPoint> out;
  out.reserve(max_points);
  out.push_back(series.front());
  for (size_t b = 0; b < buckets; ++b) {
    size_t begin = 1 + b * inner / buckets, end = 1 + (b + 1) * inner / buckets;
    if (begin >= end) continue;
    size_t lo = begin, hi = begin;
    for (size_t i = begin; i < end; ++i) {
      // NaN compares false either way: a bucket of NaN keeps its first point.
      if (series[i].value < series[lo].value) lo = i;
      if (series[i].value > series[hi].value) hi = i;
    }
    out.push_back(series[std::min(lo, hi)]);
    if (lo != hi) out.push_back(series[std::max(lo, hi)]);
  }
  out.push_back(series.back());
  return out;
}

}  // namespace kiln
