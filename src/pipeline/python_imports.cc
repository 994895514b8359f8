#include "pipeline/python_imports.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

namespace kiln {

namespace {

// A token of the little of Python this needs: names, the punctuation of
// import statements, and statement ends. Strings and comments are skipped
// (docstrings say "from" often), brackets only change what ends a statement.
struct Token {
  enum Kind { kName, kDot, kComma, kStatementEnd, kOther } kind;
  std::string_view text;
};

bool IsNameStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsNameChar(unsigned char c) { return IsNameStart(c) || std::isdigit(c); }

bool IsStringPrefix(std::string_view s) {
  if (s.size() > 2) return false;
  for (char c : s) {
    if (!std::strchr("rRbBuUfF", c)) return false;
  }
  return true;
}

// Skips the string literal starting at code[i] (its opening quote); returns
// the index after it (code.size() when unterminated).
// A backslash keeps the next character in the string in raw strings too.
size_t SkipString(std::string_view code, size_t i) {
  char q = code[i];
  bool triple = code.substr(i, 3) == std::string(3, q);
  i += triple ? 3 : 1;
  while (i < code.size()) {
    char c = code[i];
    if (c == '\\') {
      i += 2;
      continue;
    }
    if (c == q && (!triple || code.substr(i, 3) == std::string(3, q))) {
      return i + (triple ? 3 : 1);
    }
    if (c == '\n' && !triple) return i;  // unterminated: let the line end
    ++i;
  }
  return i;
}

std::vector<Token> Tokenize(std::string_view code) {
  std::vector<Token> out;
  int depth = 0;  // open brackets: newlines inside them do not end statements
  size_t i = 0;
  while (i < code.size()) {
    unsigned char c = static_cast<unsigned char>(code[i]);
    if (c == '#') {
      while (i < code.size() && code[i] != '\n') ++i;
    } else if (c == '\\' && i + 1 < code.size() && code[i + 1] == '\n') {
      i += 2;  // line continuation
    } else if (c == '\n' || c == ';') {
      if (depth == 0 || c == ';') out.push_back({Token::kStatementEnd, code.substr(i, 1)});
      ++i;
    } else if (c == ':') {
      // `try: import x` — a compound statement's body may start on its line.
      out.push_back({Token::kStatementEnd, code.substr(i, 1)});
      ++i;
    } else if (c == '"' || c == '\'') {
      i = SkipString(code, i);
      out.push_back({Token::kOther, "\"\""});
    } else if (IsNameStart(c)) {
      size_t start = i;
      while (i < code.size() && IsNameChar(static_cast<unsigned char>(code[i]))) ++i;
      std::string_view name = code.substr(start, i - start);
      if (i < code.size() && (code[i] == '"' || code[i] == '\'') && IsStringPrefix(name)) {
        i = SkipString(code, i);
        out.push_back({Token::kOther, "\"\""});
      } else {
        out.push_back({Token::kName, name});
      }
    } else if (c == '.') {
      out.push_back({Token::kDot, code.substr(i, 1)});
      ++i;
    } else if (c == ',') {
      out.push_back({Token::kComma, code.substr(i, 1)});
      ++i;
    } else {
      if (c == '(' || c == '[' || c == '{') ++depth;
      if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
      if (!std::isspace(c)) out.push_back({Token::kOther, code.substr(i, 1)});
      ++i;
    }
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> ImportedModules(std::string_view code) {
  std::vector<Token> t = Tokenize(code);
  std::set<std::string> modules;
  auto is = [&](size_t k, Token::Kind kind) { return k < t.size() && t[k].kind == kind; };
  auto name = [&](size_t k, std::string_view text) {
    return is(k, Token::kName) && t[k].text == text;
  };
  for (size_t k = 0; k < t.size(); ++k) {
    if (t[k].kind != Token::kName) continue;
    std::string_view word = t[k].text;
    bool after_dot = k > 0 && t[k - 1].kind == Token::kDot;
    if (word == "__import__" || word == "import_module" ||
        (!after_dot && (word == "exec" || word == "eval"))) {
      return std::nullopt;
    }
    bool statement_start = k == 0 || t[k - 1].kind == Token::kStatementEnd;
    if (!statement_start) continue;
    if (word == "import") {
      // import a.b as c, d
      size_t j = k + 1;
      while (is(j, Token::kName)) {
        modules.emplace(t[j].text);
        ++j;
        while (is(j, Token::kDot) && is(j + 1, Token::kName)) j += 2;
        if (name(j, "as") && is(j + 1, Token::kName)) j += 2;
        if (!is(j, Token::kComma)) break;
        ++j;
      }
      k = j - 1;
    } else if (word == "from" && is(k + 1, Token::kName)) {
      modules.emplace(t[k + 1].text);  // from a.b import c; `from .x` is relative
    }
  }
  return std::vector<std::string>(modules.begin(), modules.end());
}

std::optional<std::vector<std::string>> JobModules(
    const PlanJob& job, const std::vector<std::string>& input_serializers) {
  std::set<std::string> modules, own;
  auto add = [&](std::string_view code) {
    auto found = ImportedModules(code);
    if (!found) return false;
    modules.insert(found->begin(), found->end());
    return true;
  };
  if (!add(job.code)) return std::nullopt;
  for (const PlanResource& r : job.resources) {
    if (!r.code) continue;
    for (const auto& [path, content] : r.code->files) {
      // `arch/net.py` is the package `arch`; `net.py` the module `net`.
      std::string top = path.substr(0, path.find('/'));
      if (top.size() > 3 && top.ends_with(".py")) top.resize(top.size() - 3);
      own.insert(top);
      if (path.ends_with(".py") && !add(content)) return std::nullopt;
    }
  }
  for (const std::string& s : input_serializers) {
    if (s == "json" || s == "raw") continue;  // read with the standard library
    if (s == "numpy" || s == "torch") {
      modules.insert(s);
      continue;
    }
    return std::nullopt;  // pickle (or a library's): it may name any class
  }
  std::vector<std::string> out;
  for (const std::string& m : modules) {
    if (!own.contains(m)) out.push_back(m);
  }
  return out;
}

}  // namespace kiln
