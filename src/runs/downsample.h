// Downsample: a metric series thinned for display. A job may log a million
// points of one metric; a chart needs a few thousand. The series is cut into
// equal buckets of consecutive points and each bucket keeps its lowest and
// highest point (in their order), so spikes survive; the first and last
// points are always kept. Series no longer than `max_points` are returned
// unchanged. The full series stays in runs.db.
//
// Thread-safety: a pure function.
#pragma once

#include <vector>

#include "runs/records.h"

namespace kiln {

std::vector<MetricPoint> Downsample(const std::vector<MetricPoint>& series, size_t max_points);

}  // namespace kiln
