// Shape rules of linear, normalization, recurrent, attention, element-wise,
// embedding, flatten and loss layers, pinned to torch 1.13.
#include "nn/rules.h"

namespace kiln::nn {

namespace {

std::string Num(int64_t v) { return std::to_string(v); }

void Elementwise(const RuleContext& ctx) { ctx.Output(Flow::Tensor(ctx.Tensor())); }

void SoftmaxRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor();
  if (!ctx.Param("dim").is_null()) NormalizeDim(ctx, ctx.Int("dim"), x.size(), "dim");
  ctx.Output(Flow::Tensor(x));
}

void GluRule(const RuleContext& ctx) {
  auto x = ctx.Tensor();
  size_t d = NormalizeDim(ctx, ctx.Int("dim"), x.size(), "dim");
  if (auto v = x[d].value(); v && *v % 2) {
    ctx.Fail("halves dim " + Num(int64_t(d)) + ", but its size " + Num(*v) + " is odd");
  }
  x[d] = Dim::FloorDiv(x[d], 2);
  ctx.Output(Flow::Tensor(std::move(x)));
}

void PReluRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor();
  int64_t n = ctx.Int("num_parameters");
  if (n != 1) {
    if (x.size() < 2)
      ctx.Fail("num_parameters " + Num(n) + " needs an input with channels (dim 1)");
    if (x[1] != Dim(n)) {
      ctx.Fail("num_parameters " + Num(n) + " but the input has " + x[1].ToString() +
               " channels; use 1 or the channel count");
    }
  }
  ctx.result->parameters = Dim(n);
  ctx.Output(Flow::Tensor(x));
}

void LinearRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor();
  if (x.empty()) ctx.Fail("expects an input with at least one dimension (the features)");
  int64_t out = ctx.Int("out_features");
  if (out <= 0) ctx.Fail("out_features must be positive, not " + Num(out));
  ctx.AutoDim("in_features", x.back(), "features");
  Dim in = ctx.AutoValue("in_features");
  ctx.result->parameters = in * Dim(out) + Dim(ctx.Bool("bias") ? out : 0);
  std::vector<Dim> y(x.begin(), x.end());
  y.back() = Dim(out);
  ctx.result->macs = Product(y) * in;
  ctx.Output(Flow::Tensor(std::move(y)));
}

void FlattenRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor();
  if (x.empty()) {
    ctx.Output(Flow::Tensor({Dim(1)}));
    return;
  }
  size_t s = NormalizeDim(ctx, ctx.Int("start_dim"), x.size(), "start_dim");
  size_t e = NormalizeDim(ctx, ctx.Int("end_dim"), x.size(), "end_dim");
  if (s > e) ctx.Fail("start_dim " + Num(int64_t(s)) + " comes after end_dim " + Num(int64_t(e)));
  std::vector<Dim> y(x.begin(), x.begin() + s);
  y.push_back(Product(std::vector<Dim>(x.begin() + s, x.begin() + e + 1)));
  y.insert(y.end(), x.begin() + e + 1, x.end());
  ctx.Output(Flow::Tensor(std::move(y)));
}

void UnflattenRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor();
  size_t d = NormalizeDim(ctx, ctx.Int("dim"), x.size(), "dim");
  auto sizes = ctx.IntList("unflattened_size");
  std::vector<Dim> y(x.begin(), x.begin() + d);
  int64_t product = 1;
  int minus = -1;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) {
      minus = int(i);
    } else {
      product *= sizes[i];
    }
    y.push_back(Dim(sizes[i]));
  }
  if (auto v = x[d].value()) {
    if (minus >= 0) {
      if (*v % product)
        ctx.Fail("dim " + Num(int64_t(d)) + " of size " + Num(*v) + " does not split into " +
                 Num(product) + "s");
      y[d + minus] = Dim(*v / product);
    } else if (product != *v) {
      ctx.Fail("unflattened_size multiplies to " + Num(product) + ", but dim " + Num(int64_t(d)) +
               " has size " + Num(*v));
    }
  } else if (minus >= 0) {
    y[d + minus] = Dim::FloorDiv(x[d], product);
  }
  y.insert(y.end(), x.begin() + d + 1, x.end());
  ctx.Output(Flow::Tensor(std::move(y)));
}

void EmbeddingRule(const RuleContext& ctx) {
  auto x = ctx.Tensor();
  int64_t num = ctx.Int("num_embeddings"), dim = ctx.Int("embedding_dim");
  if (num <= 0 || dim <= 0) ctx.Fail("num_embeddings and embedding_dim must be positive");
  ctx.result->parameters = Dim(num * dim);
  x.push_back(Dim(dim));
  ctx.Output(Flow::Tensor(std::move(x)));
}

// BatchNorm1d: [N, C] or [N, C, L]; 2d: 4-d; 3d: 5-d. InstanceNorm allows
// the unbatched form too.
void NormRule(const RuleContext& ctx, size_t d, bool instance) {
  const auto& x = ctx.Tensor();
  size_t lo = d == 1 ? 2 : d + 2, hi = d + 2;
  if (instance) lo = d + 1;
  if (x.size() < lo || x.size() > hi) {
    std::string want =
        lo == hi ? Num(int64_t(lo)) + "-d" : Num(int64_t(lo)) + "-d or " + Num(int64_t(hi)) + "-d";
    ctx.Fail("expects a " + want + " input, but the input is " + ShapeToString(x) + " (" +
             Num(int64_t(x.size())) + "-d)");
  }
  size_t c = (instance && x.size() == d + 1) ? 0 : 1;
  ctx.AutoDim("num_features", x[c], "channels");
  bool affine = ctx.Bool("affine");
  if (affine) ctx.result->parameters = ctx.AutoValue("num_features") * Dim(2);
  ctx.Output(Flow::Tensor(x));
}

void LayerNormRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor();
  std::vector<Dim> normalized;
  if (ctx.Given("normalized_shape")) {
    for (int64_t v : ctx.IntList("normalized_shape")) normalized.push_back(Dim(v));
    if (normalized.size() > x.size()) {
      ctx.Fail("normalized_shape " + ShapeToString(normalized) + " has more dims than the input " +
               ShapeToString(x));
    }
    std::vector<Dim> tail(x.end() - normalized.size(), x.end());
    if (tail != normalized) {
      ctx.Fail("normalized_shape " + ShapeToString(normalized) + " but the input ends in " +
               ShapeToString(tail) + "; leave normalized_shape empty to infer it");
    }
  } else {
    if (x.empty()) ctx.Fail("expects an input with at least one dimension");
    normalized = {x.back()};
    ctx.AutoDim("normalized_shape", x.back(), "features in its last dim");
  }
  if (ctx.Bool("elementwise_affine")) ctx.result->parameters = Product(normalized) * Dim(2);
  ctx.Output(Flow::Tensor(x));
}

void GroupNormRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor();
  if (x.size() < 2) ctx.Fail("expects an input [N, C, ...], but the input is " + ShapeToString(x));
  int64_t groups = ctx.Int("num_groups");
  ctx.AutoDim("num_channels", x[1], "channels");
  Dim c = ctx.AutoValue("num_channels");
  if (auto v = c.value(); v && (groups <= 0 || *v % groups)) {
    ctx.Fail("num_channels " + Num(*v) + " is not divisible by num_groups " + Num(groups));
  }
  if (ctx.Bool("affine")) ctx.result->parameters = c * Dim(2);
  ctx.Output(Flow::Tensor(x));
}

// RNN, LSTM, GRU: input [L, H_in], [L, N, H_in] or (batch_first) [N, L, H_in].
void RecurrentRule(const RuleContext& ctx, int64_t gates, bool lstm) {
  const auto& x = ctx.Tensor();
  if (x.size() != 2 && x.size() != 3) {
    ctx.Fail("expects a 2-d input [L, features] or a 3-d input, but the input is " +
             ShapeToString(x));
  }
  int64_t hidden = ctx.Int("hidden_size");
  int64_t layers = ctx.Int("num_layers");
  int64_t proj = lstm ? ctx.Int("proj_size") : 0;
  bool bi = ctx.Bool("bidirectional");
  bool batch_first = ctx.Bool("batch_first");
  if (hidden <= 0) ctx.Fail("hidden_size must be positive, not " + Num(hidden));
  if (layers <= 0) ctx.Fail("num_layers must be positive, not " + Num(layers));
  if (proj < 0) ctx.Fail("proj_size must not be negative");
  if (proj >= hidden && proj > 0) {
    ctx.Fail("proj_size " + Num(proj) + " must be smaller than hidden_size " + Num(hidden));
  }
  ctx.AutoDim("input_size", x.back(), "features");
  Dim in = ctx.AutoValue("input_size");
  int64_t dirs = bi ? 2 : 1;
  int64_t h_out = proj > 0 ? proj : hidden;
  bool bias = ctx.Bool("bias");
  Dim params;
  for (int64_t l = 0; l < layers; ++l) {
    Dim layer_in = l == 0 ? in : Dim(dirs * h_out);
    Dim per = Dim(gates * hidden) * (layer_in + Dim(h_out)) + Dim(bias ? 2 * gates * hidden : 0) +
              Dim(proj > 0 ? hidden * proj : 0);
    params = params + per * Dim(dirs);
  }
  ctx.result->parameters = params;
  bool batched = x.size() == 3;
  Dim len = batched && batch_first ? x[1] : x[0];
  Dim batch = batched ? (batch_first ? x[0] : x[1]) : Dim(1);
  ctx.result->macs = len * batch * params;
  std::vector<Dim> out(x.begin(), x.end());
  out.back() = Dim(dirs * h_out);
  std::vector<Dim> h_n{Dim(dirs * layers)}, c_n{Dim(dirs * layers)};
  if (batched) {
    h_n.push_back(batch);
    c_n.push_back(batch);
  }
  h_n.push_back(Dim(h_out));
  c_n.push_back(Dim(hidden));
  ctx.Output(0, Flow::Tensor(std::move(out)));
  if (ctx.node.outputs.size() > 1) ctx.Output(1, Flow::Tensor(std::move(h_n)));
  if (lstm && ctx.node.outputs.size() > 2) ctx.Output(2, Flow::Tensor(std::move(c_n)));
}

// Input port index by name, -1 when the type has no such port.
int Port(const RuleContext& ctx, const char* name) {
  for (size_t i = 0; i < ctx.node.inputs.size(); ++i) {
    if (ctx.node.inputs[i].name == name) return int(i);
  }
  return -1;
}

void AttentionRule(const RuleContext& ctx) {
  int qi = Port(ctx, "query"), ki = Port(ctx, "key"), vi = Port(ctx, "value");
  if (qi < 0 || ki < 0 || vi < 0) ctx.Fail("the catalog lacks the ports query, key, value");
  const auto& q = ctx.Tensor(qi);
  const auto& k = ctx.Tensor(ki);
  const auto& v = ctx.Tensor(vi);
  if (q.size() != 2 && q.size() != 3) {
    ctx.Fail("expects a 2-d or 3-d query, but the query is " + ShapeToString(q));
  }
  if (k.size() != q.size() || v.size() != q.size()) {
    ctx.Fail("query, key and value must have the same number of dims: " + ShapeToString(q) + ", " +
             ShapeToString(k) + ", " + ShapeToString(v));
  }
  int64_t heads = ctx.Int("num_heads");
  ctx.AutoDim("embed_dim", q.back(), "features");
  Dim e = ctx.AutoValue("embed_dim");
  int64_t ev = ctx.Known(e, "embed_dim");
  if (heads <= 0 || ev % heads) {
    ctx.Fail("embed_dim " + Num(ev) + " is not divisible by num_heads " + Num(heads));
  }
  Dim kdim = ctx.Param("kdim").is_null() ? e : Dim(ctx.Int("kdim"));
  Dim vdim = ctx.Param("vdim").is_null() ? e : Dim(ctx.Int("vdim"));
  if (k.back() != kdim) {
    ctx.Fail("the key has " + k.back().ToString() + " features, but kdim is " + kdim.ToString());
  }
  if (v.back() != vdim) {
    ctx.Fail("the value has " + v.back().ToString() + " features, but vdim is " + vdim.ToString());
  }
  bool batch_first = ctx.Bool("batch_first") && q.size() == 3;
  size_t seq = batch_first ? 1 : 0;
  if (k[seq] != v[seq]) {
    ctx.Fail("key and value have different lengths, " + k[seq].ToString() + " and " +
             v[seq].ToString());
  }
  if (q.size() == 3) {
    size_t b = batch_first ? 0 : 1;
    if (q[b] != k[b] || q[b] != v[b]) {
      ctx.Fail("query, key and value have different batch sizes");
    }
  }
  bool bias = ctx.Bool("bias");
  Dim params = e * e * Dim(2) + kdim * e + vdim * e + Dim(bias ? 4 * ev : 0);
  if (ctx.Bool("add_bias_kv")) params = params + Dim(2 * ev);
  ctx.result->parameters = params;
  Dim L = q[seq], S = k[seq];
  Dim B = q.size() == 3 ? q[batch_first ? 0 : 1] : Dim(1);
  ctx.result->macs = B * (L * e * e * Dim(2) + S * (kdim + vdim) * e + L * S * e * Dim(2));
  ctx.Output(0, Flow::Tensor(q));
  if (ctx.node.outputs.size() > 1) {
    std::vector<Dim> w;
    if (q.size() == 3) w.push_back(B);
    w.push_back(L);
    // add_bias_kv appends one key, add_zero_attn one zero key.
    w.push_back(S + Dim(int64_t(ctx.Bool("add_bias_kv")) + int64_t(ctx.Bool("add_zero_attn"))));
    ctx.Output(1, Flow::Tensor(std::move(w)));
  }
}

void TransformerLayerRule(const RuleContext& ctx, bool decoder) {
  const auto& x = ctx.Tensor(0);
  if (x.size() != 2 && x.size() != 3) {
    ctx.Fail("expects a 2-d or 3-d input, but the input is " + ShapeToString(x));
  }
  int64_t heads = ctx.Int("nhead");
  ctx.AutoDim("d_model", x.back(), "features");
  int64_t e = ctx.Known(ctx.AutoValue("d_model"), "d_model");
  if (heads <= 0 || e % heads) {
    ctx.Fail("d_model " + Num(e) + " is not divisible by nhead " + Num(heads));
  }
  if (decoder) {
    const auto& m = ctx.Tensor(1);
    if (m.back() != Dim(e)) {
      ctx.Fail("the memory has " + m.back().ToString() + " features, but d_model is " + Num(e));
    }
  }
  int64_t f = ctx.Int("dim_feedforward");
  int64_t attention = 4 * e * e + 4 * e;
  int64_t params =
      attention * (decoder ? 2 : 1) + (e * f + f) + (f * e + e) + 2 * e * (decoder ? 3 : 2);
  ctx.result->parameters = Dim(params);
  Dim tokens = Product(std::vector<Dim>(x.begin(), x.end() - 1));
  ctx.result->macs = tokens * Dim(4 * e * e * (decoder ? 2 : 1) + 2 * e * f);
  ctx.Output(Flow::Tensor(x));
}

void LossRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor(0);
  if (ctx.node.inputs.size() > 1) ctx.Tensor(1);
  if (ctx.Str("reduction") == "none") {
    ctx.Output(Flow::Tensor(x));
  } else {
    ctx.Output(Flow::Tensor({}));
  }
}

}  // namespace

void AddLayerRules(std::map<std::string, Rule, std::less<>>& rules) {
  for (const char* n : {"ReLU",
                        "ReLU6",
                        "LeakyReLU",
                        "ELU",
                        "SELU",
                        "CELU",
                        "GELU",
                        "SiLU",
                        "Mish",
                        "Sigmoid",
                        "Tanh",
                        "Hardtanh",
                        "Hardsigmoid",
                        "Hardswish",
                        "Hardshrink",
                        "Softshrink",
                        "Tanhshrink",
                        "Softsign",
                        "Softplus",
                        "LogSigmoid",
                        "Threshold",
                        "RReLU",
                        "Softmax2d",
                        "Dropout",
                        "Dropout1d",
                        "Dropout2d",
                        "Dropout3d",
                        "AlphaDropout",
                        "FeatureAlphaDropout",
                        "Identity",
                        "LocalResponseNorm",
                        "ChannelShuffle"}) {
    rules[n] = Elementwise;
  }
  for (const char* n : {"Softmax", "LogSoftmax", "Softmin"}) rules[n] = SoftmaxRule;
  rules["GLU"] = GluRule;
  rules["PReLU"] = PReluRule;
  rules["Linear"] = LinearRule;
  rules["Flatten"] = FlattenRule;
  rules["Unflatten"] = UnflattenRule;
  rules["Embedding"] = EmbeddingRule;
  for (size_t d = 1; d <= 3; ++d) {
    std::string n = std::to_string(d) + "d";
    rules["BatchNorm" + n] = [d](const RuleContext& c) { NormRule(c, d, false); };
    rules["InstanceNorm" + n] = [d](const RuleContext& c) { NormRule(c, d, true); };
  }
  rules["LayerNorm"] = LayerNormRule;
  rules["GroupNorm"] = GroupNormRule;
  rules["RNN"] = [](const RuleContext& c) { RecurrentRule(c, 1, false); };
  rules["LSTM"] = [](const RuleContext& c) { RecurrentRule(c, 4, true); };
  rules["GRU"] = [](const RuleContext& c) { RecurrentRule(c, 3, false); };
  rules["MultiheadAttention"] = AttentionRule;
  rules["TransformerEncoderLayer"] = [](const RuleContext& c) { TransformerLayerRule(c, false); };
  rules["TransformerDecoderLayer"] = [](const RuleContext& c) { TransformerLayerRule(c, true); };
  for (const char* n : {"L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
                        "BCEWithLogitsLoss", "HuberLoss", "SmoothL1Loss", "KLDivLoss"}) {
    rules[n] = LossRule;
  }
}

}  // namespace kiln::nn
