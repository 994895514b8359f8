// Shape rules of convolution, pooling, padding and upsampling layers,
// pinned to torch 1.13 (torch/nn/modules/conv.py, pooling.py, and the ATen
// shape checks they call).
#include <cmath>

#include "nn/rules.h"

namespace kiln::nn {

namespace {

std::string Num(int64_t v) { return std::to_string(v); }

// The spatial layer's input: [C, *spatial] or [N, C, *spatial]; returns the
// index of the channel dim. Fails naming the ranks torch accepts.
size_t ChannelAxis(const RuleContext& ctx, size_t d) {
  const auto& x = ctx.Tensor();
  if (x.size() == d + 1) return 0;
  if (x.size() == d + 2) return 1;
  std::string spatial;
  for (const std::string& s : SpatialNames(d))
    spatial += ", " + std::string(1, char(toupper(s[0])));
  ctx.Fail("expects a " + Num(d + 1) + "-d or " + Num(d + 2) + "-d input [C" + spatial +
           "] or [N, C" + spatial + "], but the input is " + ShapeToString(x));
}

// floor((H + 2p - d(k-1) - 1)/s) + 1, or the ceil_mode variant of pooling.
Dim SlidingOutput(const RuleContext& ctx, const Dim& h, int64_t k, int64_t s, int64_t p,
                  int64_t dil, bool ceil_mode, const std::string& axis, size_t axis_from_end,
                  const char* kernel_word, bool pooling = false) {
  int64_t span = dil * (k - 1) + 1;
  Dim numerator = h + Dim(2 * p - span);
  if (auto hv = h.value()) {
    // Convolutions refuse a window larger than the padded input; pooling
    // only an empty output (with ceil_mode a dilated window may overhang).
    bool too_small = *hv + 2 * p < span;
    if (pooling) {
      Dim n = Dim(*hv + 2 * p - span);
      int64_t out = *(ceil_mode ? Dim::CeilDiv(n, s) : Dim::FloorDiv(n, s)).value() + 1;
      if (ceil_mode && out > 0 && (out - 1) * s >= *hv + p) --out;
      too_small = out <= 0;
    }
    if (too_small) {
      std::string k_text = Num(k) + (dil > 1 ? " (dilated: " + Num(span) + ")" : "");
      ctx.Fail(std::string(kernel_word) + " " + k_text + " is larger than the input's " + axis +
               " " + Num(*hv) + (p ? " plus padding 2*" + Num(p) : "") + " " +
               ctx.History(axis_from_end));
    }
  }
  Dim out = (ceil_mode ? Dim::CeilDiv(numerator, s) : Dim::FloorDiv(numerator, s)) + Dim(1);
  if (ceil_mode) {
    // torch: the last window must start inside the input or its left padding.
    if (auto ov = out.value(); ov && h.value()) {
      if ((*ov - 1) * s >= *h.value() + p) out = Dim(*ov - 1);
    }
  }
  return out;
}

std::vector<int64_t> Padding(const RuleContext& ctx, size_t d, bool* same) {
  const Value& v = ctx.Param("padding");
  *same = false;
  if (v.is_string()) {
    if (v.as_string() == "same") {
      *same = true;
      return std::vector<int64_t>(d, 0);
    }
    if (v.as_string() == "valid") return std::vector<int64_t>(d, 0);
    ctx.Fail("padding '" + v.as_string() + "' is not 'same', 'valid' or a number");
  }
  return ctx.Ints("padding", d);
}

void ConvRule(const RuleContext& ctx, size_t d, bool transposed) {
  size_t c_axis = ChannelAxis(ctx, d);
  const auto& x = ctx.Tensor();
  int64_t groups = ctx.Int("groups");
  int64_t out_channels = ctx.Int("out_channels");
  if (groups <= 0) ctx.Fail("groups must be positive, not " + Num(groups));
  if (out_channels <= 0) ctx.Fail("out_channels must be positive, not " + Num(out_channels));
  ctx.AutoDim("in_channels", x[c_axis], "channels");
  Dim in_channels = ctx.AutoValue("in_channels");
  if (auto ic = in_channels.value(); ic && *ic % groups != 0) {
    ctx.Fail("in_channels " + Num(*ic) + " is not divisible by groups " + Num(groups));
  }
  if (out_channels % groups != 0) {
    ctx.Fail("out_channels " + Num(out_channels) + " is not divisible by groups " + Num(groups));
  }
  auto k = ctx.Ints("kernel_size", d);
  auto s = ctx.Ints("stride", d);
  auto dil = ctx.Ints("dilation", d);
  for (size_t i = 0; i < d; ++i) {
    if (k[i] <= 0) ctx.Fail("kernel_size must be positive, not " + Num(k[i]));
    if (s[i] <= 0) ctx.Fail("stride must be positive, not " + Num(s[i]));
    if (dil[i] <= 0) ctx.Fail("dilation must be positive, not " + Num(dil[i]));
  }
  bool same = false;
  std::vector<int64_t> p;
  if (transposed) {
    p = ctx.Ints("padding", d);
  } else {
    p = Padding(ctx, d, &same);
  }
  if (same) {
    for (size_t i = 0; i < d; ++i) {
      if (s[i] != 1)
        ctx.Fail(
            "padding 'same' needs stride 1 (torch refuses strided 'same' convolutions); pad "
            "explicitly instead");
    }
  }
  std::vector<Dim> out(x.begin(), x.end());
  out[c_axis] = Dim(out_channels);
  auto names = SpatialNames(d);
  std::vector<int64_t> op;
  if (transposed) op = ctx.Ints("output_padding", d);
  for (size_t i = 0; i < d; ++i) {
    const Dim& h = x[c_axis + 1 + i];
    size_t from_end = d - i;
    if (same) continue;
    if (transposed) {
      if (op[i] >= s[i] && op[i] >= dil[i]) {
        ctx.Fail("output_padding " + Num(op[i]) + " must be smaller than stride " + Num(s[i]) +
                 " or dilation " + Num(dil[i]));
      }
      Dim o = (h - Dim(1)) * Dim(s[i]) + Dim(-2 * p[i] + dil[i] * (k[i] - 1) + op[i] + 1);
      if (auto ov = o.value(); ov && *ov <= 0) {
        ctx.Fail("the output's " + names[i] + " would be " + Num(*ov) + " (input " + h.ToString() +
                 ", padding " + Num(p[i]) + "); lower the padding");
      }
      out[c_axis + 1 + i] = o;
    } else {
      out[c_axis + 1 + i] =
          SlidingOutput(ctx, h, k[i], s[i], p[i], dil[i], false, names[i], from_end, "kernel");
    }
  }
  int64_t kprod = 1;
  for (int64_t v : k) kprod *= v;
  bool bias = ctx.Bool("bias");
  // weight [out, in/groups, *k] (transposed: [in, out/groups, *k]) + bias [out]
  Dim weight = transposed ? in_channels * Dim(out_channels / groups * kprod)
                          : Dim::FloorDiv(in_channels, groups) * Dim(out_channels * kprod);
  ctx.result->parameters = weight + Dim(bias ? out_channels : 0);
  if (transposed) {
    ctx.result->macs = Product(x) * Dim(out_channels / groups * kprod);
  } else {
    ctx.result->macs = Product(out) * Dim::FloorDiv(in_channels, groups) * Dim(kprod);
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

void PoolRule(const RuleContext& ctx, size_t d, bool max) {
  ChannelAxis(ctx, d);
  const auto& x = ctx.Tensor();
  auto k = ctx.Ints("kernel_size", d);
  std::vector<int64_t> s = ctx.Param("stride").is_null() ? k : ctx.Ints("stride", d);
  auto p = ctx.Ints("padding", d);
  std::vector<int64_t> dil(d, 1);
  if (max) dil = ctx.Ints("dilation", d);
  bool ceil_mode = ctx.Bool("ceil_mode");
  auto names = SpatialNames(d);
  std::vector<Dim> out(x.begin(), x.end());
  size_t base = x.size() - d;
  for (size_t i = 0; i < d; ++i) {
    if (k[i] <= 0) ctx.Fail("kernel_size must be positive, not " + Num(k[i]));
    if (s[i] <= 0) ctx.Fail("stride must be positive, not " + Num(s[i]));
    if (p[i] > k[i] / 2) {
      ctx.Fail("padding " + Num(p[i]) + " is more than half the kernel " + Num(k[i]) +
               " (torch allows at most " + Num(k[i] / 2) + ")");
    }
    out[base + i] = SlidingOutput(ctx, x[base + i], k[i], s[i], p[i], dil[i], ceil_mode, names[i],
                                  d - i, "kernel", /*pooling=*/true);
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

void LPPoolRule(const RuleContext& ctx, size_t d) {
  ChannelAxis(ctx, d);
  const auto& x = ctx.Tensor();
  auto k = ctx.Ints("kernel_size", d);
  std::vector<int64_t> s = ctx.Param("stride").is_null() ? k : ctx.Ints("stride", d);
  bool ceil_mode = ctx.Bool("ceil_mode");
  auto names = SpatialNames(d);
  std::vector<Dim> out(x.begin(), x.end());
  size_t base = x.size() - d;
  for (size_t i = 0; i < d; ++i) {
    out[base + i] = SlidingOutput(ctx, x[base + i], k[i], s[i], 0, 1, ceil_mode, names[i], d - i,
                                  "kernel", /*pooling=*/true);
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

void AdaptivePoolRule(const RuleContext& ctx, size_t d) {
  ChannelAxis(ctx, d);
  const auto& x = ctx.Tensor();
  const Value& v = ctx.Param("output_size");
  std::vector<Dim> out(x.begin(), x.end());
  size_t base = x.size() - d;
  std::vector<Value> sizes;
  if (v.is_list()) {
    sizes = v.as_list();
  } else {
    sizes.assign(d, v);
  }
  if (sizes.size() != d) {
    ctx.Fail("output_size has " + Num(int64_t(sizes.size())) + " values, but a " + Num(d) +
             "-d pooling needs " + Num(d));
  }
  for (size_t i = 0; i < d; ++i) {
    if (sizes[i].is_null()) continue;  // None keeps the input's size
    if (!sizes[i].is_int() || sizes[i].as_int() < 0) {
      ctx.Fail("output_size must hold non-negative integers or None");
    }
    out[base + i] = Dim(sizes[i].as_int());
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

// ZeroPad2d, ConstantPad*, ReflectionPad*, ReplicationPad*: padding (left,
// right) per dim from the last one backwards.
void PadRule(const RuleContext& ctx, size_t d, bool reflection = false) {
  const auto& x = ctx.Tensor();
  if (x.size() != d + 1 && x.size() != d + 2) {
    ctx.Fail("expects a " + Num(d + 1) + "-d or " + Num(d + 2) + "-d input, but the input is " +
             ShapeToString(x));
  }
  auto p = ctx.Ints("padding", 2 * d);
  std::vector<Dim> out(x.begin(), x.end());
  for (size_t i = 0; i < d; ++i) {
    Dim& h = out[x.size() - 1 - i];
    if (reflection) {
      int64_t size = ctx.Known(h, "the size the reflection pads");
      if (p[2 * i] >= size || p[2 * i + 1] >= size) {
        ctx.Fail("reflection padding " + Num(std::max(p[2 * i], p[2 * i + 1])) +
                 " must be smaller than the input's " + SpatialNames(d)[d - 1 - i] + " " +
                 Num(size));
      }
    }
    h = h + Dim(p[2 * i] + p[2 * i + 1]);
    if (auto v = h.value(); v && *v <= 0) ctx.Fail("the padding leaves nothing of the input");
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

void UpsampleRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor();
  if (x.size() < 3 || x.size() > 5) {
    ctx.Fail("expects a 3-d, 4-d or 5-d input [N, C, ...], but the input is " + ShapeToString(x));
  }
  size_t d = x.size() - 2;
  std::string mode = ctx.Str("mode");
  size_t wants = mode == "linear"                            ? 3
                 : (mode == "bilinear" || mode == "bicubic") ? 4
                 : mode == "trilinear"                       ? 5
                                                             : 0;
  if (wants && x.size() != wants) {
    ctx.Fail("mode '" + mode + "' needs a " + Num(int64_t(wants)) + "-d input, but the input is " +
             ShapeToString(x));
  }
  const Value& size = ctx.Param("size");
  const Value& scale = ctx.Param("scale_factor");
  if (size.is_null() == scale.is_null()) {
    ctx.Fail(size.is_null() ? "set size or scale_factor" : "set size or scale_factor, not both");
  }
  std::vector<Dim> out(x.begin(), x.end());
  if (!size.is_null()) {
    auto s = ctx.Ints("size", d);
    for (size_t i = 0; i < d; ++i) out[2 + i] = Dim(s[i]);
  } else {
    std::vector<double> f;
    if (scale.is_list()) {
      for (const Value& v : scale.as_list()) f.push_back(v.as_number());
    } else {
      f.assign(d, scale.as_number());
    }
    if (f.size() != d) ctx.Fail("scale_factor needs " + Num(d) + " values");
    for (size_t i = 0; i < d; ++i) {
      const Dim& h = x[2 + i];
      if (auto v = h.value()) {
        out[2 + i] = Dim(int64_t(std::floor(double(*v) * f[i])));
      } else if (f[i] == std::floor(f[i])) {
        out[2 + i] = h * Dim(int64_t(f[i]));
      } else {
        ctx.Fail("a fractional scale_factor needs a known " + SpatialNames(d)[i]);
      }
    }
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

void PixelShuffleRule(const RuleContext& ctx, bool shuffle) {
  const auto& x = ctx.Tensor();
  if (x.size() < 3)
    ctx.Fail("expects at least a 3-d input [C, H, W], but the input is " + ShapeToString(x));
  int64_t r = ctx.Int(shuffle ? "upscale_factor" : "downscale_factor");
  std::vector<Dim> out(x.begin(), x.end());
  size_t c = x.size() - 3;
  if (shuffle) {
    int64_t rr = r * r;
    int64_t channels = ctx.Known(x[c], "the channel count");
    if (channels % rr != 0) {
      ctx.Fail("the input's " + Num(channels) + " channels are not divisible by upscale_factor² " +
               Num(rr));
    }
    out[c] = Dim::FloorDiv(x[c], rr);
    out[c + 1] = x[c + 1] * Dim(r);
    out[c + 2] = x[c + 2] * Dim(r);
  } else {
    for (size_t i = 1; i <= 2; ++i) {
      if (auto v = x[c + i].value(); v && *v % r != 0) {
        ctx.Fail("the input's " + SpatialNames(2)[i - 1] + " " + Num(*v) +
                 " is not divisible by downscale_factor " + Num(r));
      }
      out[c + i] = Dim::FloorDiv(x[c + i], r);
    }
    out[c] = x[c] * Dim(r * r);
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

}  // namespace

void AddConvRules(std::map<std::string, Rule, std::less<>>& rules) {
  for (size_t d = 1; d <= 3; ++d) {
    std::string n = std::to_string(d) + "d";
    rules["Conv" + n] = [d](const RuleContext& c) { ConvRule(c, d, false); };
    rules["ConvTranspose" + n] = [d](const RuleContext& c) { ConvRule(c, d, true); };
    rules["MaxPool" + n] = [d](const RuleContext& c) { PoolRule(c, d, true); };
    rules["AvgPool" + n] = [d](const RuleContext& c) { PoolRule(c, d, false); };
    rules["AdaptiveMaxPool" + n] = [d](const RuleContext& c) { AdaptivePoolRule(c, d); };
    rules["AdaptiveAvgPool" + n] = [d](const RuleContext& c) { AdaptivePoolRule(c, d); };
    rules["ConstantPad" + n] = [d](const RuleContext& c) { PadRule(c, d); };
    rules["ReflectionPad" + n] = [d](const RuleContext& c) { PadRule(c, d, true); };
    rules["ReplicationPad" + n] = [d](const RuleContext& c) { PadRule(c, d); };
  }
  rules["LPPool1d"] = [](const RuleContext& c) { LPPoolRule(c, 1); };
  rules["LPPool2d"] = [](const RuleContext& c) { LPPoolRule(c, 2); };
  rules["ZeroPad2d"] = [](const RuleContext& c) { PadRule(c, 2); };
  rules["Upsample"] = UpsampleRule;
  rules["UpsamplingNearest2d"] = UpsampleRule;
  rules["UpsamplingBilinear2d"] = UpsampleRule;
  rules["PixelShuffle"] = [](const RuleContext& c) { PixelShuffleRule(c, true); };
  rules["PixelUnshuffle"] = [](const RuleContext& c) { PixelShuffleRule(c, false); };
}

}  // namespace kiln::nn
