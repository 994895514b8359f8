// Shape rules of Kiln's own node types (docs/nn.md): Input, Output, the
// merges, the shape operations, and Block (another architecture used as a
// layer, analysed with the shapes it gets at this use).
#include "nn/rules.h"

namespace kiln::nn {

namespace {

std::string Num(int64_t v) { return std::to_string(v); }

void InputRule(const RuleContext& ctx) {
  const Value& v = ctx.Param("shape");
  if (!v.is_list()) ctx.Fail("needs a shape, a list such as [\"N\", 3, 32, 32]");
  std::vector<Dim> shape;
  for (const Value& d : v.as_list()) {
    if (d.is_int()) {
      if (d.as_int() <= 0) ctx.Fail("dimension " + Num(d.as_int()) + " must be positive");
      shape.push_back(Dim(d.as_int()));
    } else if (d.is_string() && IsIdentifier(d.as_string())) {
      shape.push_back(Dim::Symbol(d.as_string()));
    } else {
      ctx.Fail("a dimension is a positive integer or a name such as N, not " + JsonText(d));
    }
  }
  ctx.Output(Flow::Tensor(std::move(shape)));
}

void OutputRule(const RuleContext& ctx) {
  if (!ctx.Connected(0)) ctx.Fail("nothing is connected to it");
}

std::string AxisNoun(size_t axis, size_t rank) {
  if (rank == 4)
    return std::vector<std::string>{"batch sizes", "channels", "heights", "widths"}[axis];
  if (rank == 3) return std::vector<std::string>{"batch sizes", "channels", "lengths"}[axis];
  if (rank == 5) {
    return std::vector<std::string>{"batch sizes", "channels", "depths", "heights", "widths"}[axis];
  }
  if (rank == 2) return std::vector<std::string>{"batch sizes", "features"}[axis];
  return "sizes of dim " + Num(int64_t(axis));
}

const std::vector<Flow>& Operands(const RuleContext& ctx) {
  const auto& ops = ctx.result->inputs.at(0);
  if (ops.empty()) ctx.Fail("nothing is connected to it");
  for (size_t k = 0; k < ops.size(); ++k) {
    if (ops[k].tuple) {
      ctx.Fail("gets a tuple from '" + ctx.SourceName(0, k) + "'; take one element with a Select");
    }
  }
  return ops;
}

void ConcatenateRule(const RuleContext& ctx, bool stack) {
  const auto& ops = Operands(ctx);
  const auto& first = ops[0].shape;
  size_t rank = first.size();
  size_t d = NormalizeDim(ctx, ctx.Int("dim"), stack ? rank + 1 : rank, "dim");
  std::string who = ctx.Who() + (stack ? "" : " along dim " + Num(int64_t(d)));
  Dim joined;
  for (size_t k = 0; k < ops.size(); ++k) {
    const auto& s = ops[k].shape;
    if (s.size() != rank) {
      throw RuleError{who + ": inputs have different numbers of dims, " + ShapeToString(first) +
                      " from '" + ctx.SourceName(0, 0) + "' and " + ShapeToString(s) + " from '" +
                      ctx.SourceName(0, k) + "'"};
    }
    for (size_t a = 0; a < rank; ++a) {
      if ((stack || a != d) && s[a] != first[a]) {
        throw RuleError{who + ": " + AxisNoun(a, rank) + " differ, " + first[a].ToString() +
                        " from '" + ctx.SourceName(0, 0) + "' and " + s[a].ToString() + " from '" +
                        ctx.SourceName(0, k) + "'"};
      }
    }
    if (!stack) joined = joined + s[d];
  }
  std::vector<Dim> out(first.begin(), first.end());
  if (stack) {
    out.insert(out.begin() + d, Dim(int64_t(ops.size())));
  } else {
    out[d] = joined;
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

void BroadcastRule(const RuleContext& ctx) {
  const auto& ops = Operands(ctx);
  std::vector<Dim> out = ops[0].shape;
  for (size_t k = 1; k < ops.size(); ++k) {
    const auto& s = ops[k].shape;
    std::vector<Dim> r(std::max(out.size(), s.size()), Dim(1));
    for (size_t i = 0; i < r.size(); ++i) {
      const Dim* a = i < out.size() ? &out[out.size() - 1 - i] : nullptr;
      const Dim* b = i < s.size() ? &s[s.size() - 1 - i] : nullptr;
      Dim& o = r[r.size() - 1 - i];
      if (!a) {
        o = *b;
      } else if (!b || *a == *b || *b == Dim(1)) {
        o = *a;
      } else if (*a == Dim(1)) {
        o = *b;
      } else {
        ctx.Fail("shapes " + ShapeToString(out) + " from '" + ctx.SourceName(0, 0) + "' and " +
                 ShapeToString(s) + " from '" + ctx.SourceName(0, k) + "' do not broadcast (dim " +
                 Num(int64_t(r.size() - 1 - i)) + ": " + a->ToString() + " vs " + b->ToString() +
                 ")");
      }
    }
    out = std::move(r);
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

// a / b when b is a known number dividing a exactly (Reshape's shape holds
// numbers; -1 stands for the rest, the batch included).
std::optional<Dim> DivideExactly(const Dim& a, const Dim& b) {
  auto bv = b.value();
  if (!bv || *bv == 0) return std::nullopt;
  Dim q = Dim::FloorDiv(a, *bv);
  if (q * Dim(*bv) == a) return q;
  return std::nullopt;
}

void ReshapeRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor();
  auto want = ctx.IntList("shape");
  Dim total = Product(x);
  int minus = -1;
  Dim known(1);
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == -1) {
      if (minus >= 0) ctx.Fail("shape " + JsonText(ctx.Param("shape")) + " has more than one -1");
      minus = int(i);
    } else if (want[i] < 0) {
      ctx.Fail("shape holds " + Num(want[i]) + "; sizes are positive or -1");
    } else {
      known = known * Dim(want[i]);
    }
  }
  std::vector<Dim> out;
  for (int64_t w : want) out.push_back(Dim(w));
  if (minus >= 0) {
    auto q = DivideExactly(total, known);
    if (!q) {
      ctx.Fail("cannot reshape " + ShapeToString(x) + " (" + total.ToString() + " elements) into " +
               JsonText(ctx.Param("shape")) + ": " + total.ToString() + " is not a multiple of " +
               known.ToString());
    }
    out[minus] = *q;
  } else if (known != total) {
    ctx.Fail("cannot reshape " + ShapeToString(x) + " (" + total.ToString() + " elements) into " +
             JsonText(ctx.Param("shape")) + " (" + known.ToString() + " elements)");
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

void PermuteRule(const RuleContext& ctx) {
  const auto& x = ctx.Tensor();
  auto dims = ctx.IntList("dims");
  if (dims.size() != x.size()) {
    ctx.Fail("dims " + JsonText(ctx.Param("dims")) + " has " + Num(int64_t(dims.size())) +
             " entries, but the input " + ShapeToString(x) + " has " + Num(int64_t(x.size())) +
             " dims");
  }
  std::vector<bool> seen(x.size(), false);
  std::vector<Dim> out;
  for (int64_t d : dims) {
    size_t n = NormalizeDim(ctx, d, x.size(), "dim");
    if (seen[n])
      ctx.Fail("dims " + JsonText(ctx.Param("dims")) + " repeats dim " + Num(int64_t(n)));
    seen[n] = true;
    out.push_back(x[n]);
  }
  ctx.Output(Flow::Tensor(std::move(out)));
}

void SplitRule(const RuleContext& ctx, bool chunk) {
  const auto& x = ctx.Tensor();
  size_t d = NormalizeDim(ctx, ctx.Int("dim"), x.size(), "dim");
  int64_t size = ctx.Known(x[d], "the size of dim " + Num(int64_t(d)));
  std::vector<int64_t> pieces;
  if (chunk) {
    int64_t chunks = ctx.Int("chunks");
    if (chunks <= 0) ctx.Fail("chunks must be positive, not " + Num(chunks));
    int64_t each = (size + chunks - 1) / chunks;
    for (int64_t at = 0; at < size; at += each) pieces.push_back(std::min(each, size - at));
  } else if (ctx.Param("split_size_or_sections").is_int()) {
    int64_t each = ctx.Int("split_size_or_sections");
    if (each <= 0) ctx.Fail("split_size_or_sections must be positive, not " + Num(each));
    for (int64_t at = 0; at < size; at += each) pieces.push_back(std::min(each, size - at));
  } else {
    pieces = ctx.IntList("split_size_or_sections");
    int64_t sum = 0;
    for (int64_t p : pieces) sum += p;
    if (sum != size) {
      ctx.Fail("sections add up to " + Num(sum) + ", but dim " + Num(int64_t(d)) + " has size " +
               Num(size));
    }
  }
  std::vector<Flow> items;
  for (int64_t p : pieces) {
    std::vector<Dim> s(x.begin(), x.end());
    s[d] = Dim(p);
    items.push_back(Flow::Tensor(std::move(s)));
  }
  ctx.Output(Flow::Tuple(std::move(items)));
}

void SelectRule(const RuleContext& ctx) {
  if (!ctx.Connected(0)) ctx.Fail("input 'input' is not connected");
  const Flow& f = ctx.result->inputs[0][0];
  if (!f.tuple) {
    ctx.Fail("selects from a tuple, but '" + ctx.SourceName(0) + "' gives a tensor " +
             f.ToString());
  }
  int64_t i = ctx.Int("index");
  int64_t n = int64_t(f.items.size());
  if (i < -n || i >= n) {
    ctx.Fail("index " + Num(i) + " is out of range for a tuple of " + Num(n));
  }
  ctx.Output(f.items[size_t(i < 0 ? i + n : i)]);
}

void BlockRule(const RuleContext& ctx) {
  const Architecture& block = ctx.doc.architectures.at(ctx.node.Param("block")->as_string());
  int64_t count = ctx.Int("count");
  if (count <= 0) ctx.Fail("count must be positive, not " + Num(count));
  if (ctx.depth > 32) ctx.Fail("blocks nest more than 32 deep");
  std::vector<Flow> flows;
  for (size_t p = 0; p < ctx.node.inputs.size(); ++p) {
    if (!ctx.Connected(p)) ctx.Fail("input '" + ctx.node.inputs[p].name + "' is not connected");
    flows.push_back(ctx.result->inputs[p][0]);
  }
  if (count > 1 && ctx.node.inputs.size() != ctx.node.outputs.size()) {
    ctx.Fail("count " + Num(count) + " feeds each copy's outputs to the next copy's inputs, but " +
             block.name + " has " + Num(int64_t(ctx.node.inputs.size())) + " inputs and " +
             Num(int64_t(ctx.node.outputs.size())) + " outputs");
  }
  for (int64_t copy = 0; copy < count; ++copy) {
    ArchitectureResult r = AnalyzeWith(ctx.doc, block, flows, ctx.depth + 1, ctx.oracle);
    if (!r.errors.empty()) {
      std::string where = count > 1 ? " (copy " + Num(copy + 1) + " of " + Num(count) + ")" : "";
      ctx.Fail("inside " + block.name + where + ": " + r.errors[0].message);
    }
    flows.clear();
    for (size_t i = 0; i < block.nodes.size(); ++i) {
      if (block.nodes[i].type != "Output") continue;
      const auto& in = r.nodes[i].inputs;
      if (in.empty() || in[0].empty()) {
        ctx.Fail("inside " + block.name + ": its Output '" + block.nodes[i].name +
                 "' gets no shape (a layer there has no shape rule)");
      }
      flows.push_back(in[0][0]);
    }
    ctx.result->parameters = ctx.result->parameters + r.parameters;
    ctx.result->macs = ctx.result->macs + r.macs;
    ctx.result->bindings.push_back(r.bindings);
  }
  for (size_t p = 0; p < flows.size() && p < ctx.node.outputs.size(); ++p) {
    ctx.Output(p, flows[p]);
  }
}

}  // namespace

void AddBuiltinRules(std::map<std::string, Rule, std::less<>>& rules) {
  rules["Input"] = InputRule;
  rules["Output"] = OutputRule;
  rules["Concatenate"] = [](const RuleContext& c) { ConcatenateRule(c, false); };
  rules["Stack"] = [](const RuleContext& c) { ConcatenateRule(c, true); };
  rules["Add"] = BroadcastRule;
  rules["Multiply"] = BroadcastRule;
  rules["Reshape"] = ReshapeRule;
  rules["Permute"] = PermuteRule;
  rules["Split"] = [](const RuleContext& c) { SplitRule(c, false); };
  rules["Chunk"] = [](const RuleContext& c) { SplitRule(c, true); };
  rules["Select"] = SelectRule;
  rules["Block"] = BlockRule;
}

}  // namespace kiln::nn
