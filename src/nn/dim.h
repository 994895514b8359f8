// Dim: one dimension of a tensor shape at design time — a known integer, or
// a polynomial with integer coefficients over named symbols ("N", "H") and
// opaque terms ("floor((H - 1)/2)"), kept in a canonical form so that two
// dimensions are equal exactly when their strings are (docs/nn.md, "Shapes").
//
// Why polynomials: the shape rules are affine in their input (conv, pooling)
// except for products (Flatten, parameter counts, multiply-adds) and floors
// of divisions that do not divide evenly; the former stay exact, the latter
// become one opaque factor, so `N` stays `N` and `H + 2 - 3 + 1` is `H`.
//
// Ownership: a value type. Thread-safety: values; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::nn {

class Dim {
 public:
  Dim() = default;     // 0
  Dim(int64_t value);  // NOLINT: a known dimension
  static Dim Symbol(std::string name);

  // A known integer (no symbols).
  bool known() const;
  // The integer of a known Dim; nullopt when symbolic.
  std::optional<int64_t> value() const;
  // Canonical text: "N", "2*H + 1", "floor((H - 1)/2) + 1", "64".
  std::string ToString() const;
  // The same as a Python expression ("(H - 1)//2 + 1"), for generated code.
  std::string ToPython() const;
  // The symbol names it mentions, opaque terms included.
  std::vector<std::string> Names() const;

  friend Dim operator+(const Dim& a, const Dim& b);
  friend Dim operator-(const Dim& a, const Dim& b);
  friend Dim operator*(const Dim& a, const Dim& b);
  friend bool operator==(const Dim& a, const Dim& b) { return a.terms_ == b.terms_; }
  friend bool operator!=(const Dim& a, const Dim& b) { return !(a == b); }

  // floor(a / d) and ceil(a / d) for d > 0: exact when every symbolic
  // coefficient is a multiple of d, else an opaque term.
  static Dim FloorDiv(const Dim& a, int64_t d);
  static Dim CeilDiv(const Dim& a, int64_t d);

 private:
  // Monomial (sorted factor names; empty for the constant) → coefficient;
  // no zero coefficients are stored.
  using Monomial = std::vector<std::string>;
  std::map<Monomial, int64_t> terms_;

  void AddTerm(const Monomial& m, int64_t c);
  static Dim Opaque(std::string text);
};

// "[N, 3, 32, 32]"
std::string ShapeToString(const std::vector<Dim>& shape);
// The product of the dims (1 for an empty shape).
Dim Product(const std::vector<Dim>& shape);

}  // namespace kiln::nn
