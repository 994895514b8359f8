#include "nn/dim.h"

#include <algorithm>

namespace kiln::nn {

Dim::Dim(int64_t value) { AddTerm({}, value); }

Dim Dim::Symbol(std::string name) {
  Dim d;
  d.AddTerm({std::move(name)}, 1);
  return d;
}

Dim Dim::Opaque(std::string text) { return Symbol(std::move(text)); }

void Dim::AddTerm(const Monomial& m, int64_t c) {
  if (c == 0) return;
  auto [it, inserted] = terms_.emplace(m, c);
  if (!inserted) {
    it->second += c;
    if (it->second == 0) terms_.erase(it);
  }
}

bool Dim::known() const {
  return terms_.empty() || (terms_.size() == 1 && terms_.begin()->first.empty());
}

std::optional<int64_t> Dim::value() const {
  if (terms_.empty()) return 0;
  if (!known()) return std::nullopt;
  return terms_.begin()->second;
}

Dim operator+(const Dim& a, const Dim& b) {
  Dim r = a;
  for (const auto& [m, c] : b.terms_) r.AddTerm(m, c);
  return r;
}

Dim operator-(const Dim& a, const Dim& b) {
  Dim r = a;
  for (const auto& [m, c] : b.terms_) r.AddTerm(m, -c);
  return r;
}

Dim operator*(const Dim& a, const Dim& b) {
  Dim r;
  for (const auto& [ma, ca] : a.terms_) {
    for (const auto& [mb, cb] : b.terms_) {
      Dim::Monomial m = ma;
      m.insert(m.end(), mb.begin(), mb.end());
      std::sort(m.begin(), m.end());
      r.AddTerm(m, ca * cb);
    }
  }
  return r;
}

namespace {

int64_t FloorDivInt(int64_t a, int64_t d) {
  int64_t q = a / d;
  if ((a % d != 0) && ((a < 0) != (d < 0))) --q;
  return q;
}

}  // namespace

Dim Dim::FloorDiv(const Dim& a, int64_t d) {
  if (d == 1) return a;
  // floor((d*q + c)/d) = q + floor(c/d) when q has integer coefficients.
  Dim quotient;
  int64_t constant = 0;
  for (const auto& [m, c] : a.terms_) {
    if (m.empty()) {
      constant = c;
    } else if (c % d == 0) {
      quotient.AddTerm(m, c / d);
    } else {
      return Opaque("floor((" + a.ToString() + ")/" + std::to_string(d) + ")");
    }
  }
  return quotient + Dim(FloorDivInt(constant, d));
}

Dim Dim::CeilDiv(const Dim& a, int64_t d) {
  if (a.known()) return Dim(-FloorDivInt(-*a.value(), d));
  Dim exact = FloorDiv(a + Dim(d - 1), d);
  if (exact.ToString().rfind("floor(", 0) != 0) return exact;
  return Opaque("ceil((" + a.ToString() + ")/" + std::to_string(d) + ")");
}

std::string Dim::ToString() const {
  if (terms_.empty()) return "0";
  // Higher degree first, then by name; the constant last.
  std::vector<std::pair<Monomial, int64_t>> order(terms_.begin(), terms_.end());
  std::stable_sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
    if (x.first.size() != y.first.size()) return x.first.size() > y.first.size();
    return x.first < y.first;
  });
  std::string out;
  bool first = true;
  for (const auto& [m, c] : order) {
    int64_t mag = c < 0 ? -c : c;
    if (first) {
      if (c < 0) out += "-";
    } else {
      out += c < 0 ? " - " : " + ";
    }
    first = false;
    std::string factors;
    for (size_t i = 0; i < m.size(); ++i) {
      if (i) factors += "*";
      factors += m[i];
    }
    if (m.empty()) {
      out += std::to_string(mag);
    } else if (mag == 1) {
      out += factors;
    } else {
      out += std::to_string(mag) + "*" + factors;
    }
  }
  return out;
}

namespace {

// "floor((A)/d)" → "((A')//d)", "ceil((A)/d)" → "(-((-(A'))//d))", recursively.
std::string PythonText(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    bool is_floor = s.compare(i, 6, "floor(") == 0;
    bool is_ceil = s.compare(i, 5, "ceil(") == 0;
    if (!is_floor && !is_ceil) {
      out += s[i++];
      continue;
    }
    size_t open = i + (is_floor ? 5 : 4);
    int depth = 0;
    size_t close = open, slash = std::string::npos;
    for (; close < s.size(); ++close) {
      if (s[close] == '(') ++depth;
      if (s[close] == ')' && --depth == 0) break;
      if (s[close] == '/' && depth == 1) slash = close;
    }
    std::string num = PythonText(s.substr(open + 1, slash - open - 1));
    std::string den = s.substr(slash + 1, close - slash - 1);
    out += is_floor ? "(" + num + "//" + den + ")" : "(-((-" + num + ")//" + den + "))";
    i = close + 1;
  }
  return out;
}

}  // namespace

std::string Dim::ToPython() const { return PythonText(ToString()); }

std::vector<std::string> Dim::Names() const {
  std::vector<std::string> names;
  for (const auto& [m, c] : terms_) {
    for (const std::string& f : m) {
      std::string word;
      for (size_t i = 0; i <= f.size(); ++i) {
        char ch = i < f.size() ? f[i] : ' ';
        bool part = ch == '_' || isalnum(static_cast<unsigned char>(ch));
        if (part) {
          word += ch;
          continue;
        }
        if (!word.empty() && !isdigit(static_cast<unsigned char>(word[0])) && word != "floor" &&
            word != "ceil" && std::find(names.begin(), names.end(), word) == names.end()) {
          names.push_back(word);
        }
        word.clear();
      }
    }
  }
  return names;
}

std::string ShapeToString(const std::vector<Dim>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i].ToString();
  }
  return s + "]";
}

Dim Product(const std::vector<Dim>& shape) {
  Dim p(1);
  for (const Dim& d : shape) p = p * d;
  return p;
}

}  // namespace kiln::nn
