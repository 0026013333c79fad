#include "pipeline/namespaces.hpp"

#include <algorithm>

namespace bsonpipe::pipeline {

Result<NsPattern> NsPattern::compile(std::string_view pattern) {
  NsPattern p;
  p.text_ = std::string(pattern);
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) p.tokens_.push_back({Token::kLiteral, std::move(lit)});
    lit.clear();
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (i + 1 == pattern.size())
        return Status(ErrorCode::kInvalidArgument, "namespace pattern '" + p.text_ + "' ends with a lone backslash");
      lit.push_back(pattern[++i]);
    } else if (c == '*') {
      flush();
      p.tokens_.push_back({Token::kStar, {}});
    } else if (c == '$') {
      auto close = pattern.find('$', i + 1);
      if (close == std::string_view::npos)
        return Status(ErrorCode::kInvalidArgument, "namespace pattern '" + p.text_ + "' has an unclosed $variable$");
      std::string name(pattern.substr(i + 1, close - i - 1));
      if (name.empty())
        return Status(ErrorCode::kInvalidArgument, "namespace pattern '" + p.text_ + "' has an empty $$ variable");
      flush();
      p.tokens_.push_back({Token::kVar, std::move(name)});
      i = close;
    } else {
      lit.push_back(c);
    }
  }
  flush();
  return p;
}

std::vector<std::string> NsPattern::variables() const {
  std::vector<std::string> out;
  for (auto& t : tokens_)
    if (t.kind == Token::kVar) out.push_back(t.text);
  return out;
}

bool NsPattern::match_from(std::size_t ti, std::string_view rest, std::map<std::string, std::string>* vars) const {
  if (ti == tokens_.size()) return rest.empty();
  const Token& t = tokens_[ti];
  if (t.kind == Token::kLiteral) {
    if (rest.substr(0, t.text.size()) != t.text) return false;
    return match_from(ti + 1, rest.substr(t.text.size()), vars);
  }
  // A wildcard or variable: shortest match first (as a non-greedy regex would).
  for (std::size_t n = 0; n <= rest.size(); ++n) {
    if (match_from(ti + 1, rest.substr(n), vars)) {
      if (t.kind == Token::kVar && vars != nullptr) (*vars)[t.text] = std::string(rest.substr(0, n));
      return true;
    }
  }
  return false;
}

bool NsPattern::match(std::string_view ns, std::map<std::string, std::string>* vars) const {
  return match_from(0, ns, vars);
}

Result<std::string> NsPattern::expand(const std::map<std::string, std::string>& vars) const {
  std::string out;
  for (auto& t : tokens_) {
    switch (t.kind) {
      case Token::kLiteral: out += t.text; break;
      case Token::kStar:
        return Status(ErrorCode::kInvalidArgument,
                      "--nsTo pattern '" + text_ + "' cannot contain '*'; use $variables$");
      case Token::kVar: {
        auto it = vars.find(t.text);
        if (it == vars.end())
          return Status(ErrorCode::kInvalidArgument,
                        "--nsTo pattern '" + text_ + "' uses $" + t.text + "$ which --nsFrom does not define");
        out += it->second;
        break;
      }
    }
  }
  return out;
}

Status NsFilter::include(std::string_view pattern) {
  auto p = NsPattern::compile(pattern);
  if (!p) return p.status();
  includes_.push_back(std::move(*p));
  return {};
}

Status NsFilter::exclude(std::string_view pattern) {
  auto p = NsPattern::compile(pattern);
  if (!p) return p.status();
  excludes_.push_back(std::move(*p));
  return {};
}

bool NsFilter::allows(std::string_view ns) const {
  auto hit = [&](const NsPattern& p) { return p.match(ns); };
  if (!includes_.empty() && std::none_of(includes_.begin(), includes_.end(), hit)) return false;
  return std::none_of(excludes_.begin(), excludes_.end(), hit);
}

Status NsRenamer::add(std::string_view from, std::string_view to) {
  auto f = NsPattern::compile(from);
  if (!f) return f.status();
  auto t = NsPattern::compile(to);
  if (!t) return t.status();
  if (to.find('*') != std::string_view::npos && to.find("\\*") == std::string_view::npos)
    return {ErrorCode::kInvalidArgument, "--nsTo '" + std::string(to) + "' cannot contain '*'; use $variables$"};
  auto fv = f->variables(), tv = t->variables();
  std::sort(fv.begin(), fv.end());
  std::sort(tv.begin(), tv.end());
  if (fv != tv)
    return {ErrorCode::kInvalidArgument,
            "--nsFrom '" + std::string(from) + "' and --nsTo '" + std::string(to) + "' must use the same $variables$"};
  rules_.emplace_back(std::move(*f), std::move(*t));
  return {};
}

Result<std::string> NsRenamer::rename(std::string_view ns) const {
  for (auto& [from, to] : rules_) {
    std::map<std::string, std::string> vars;
    if (from.match(ns, &vars)) return to.expand(vars);
  }
  return std::string(ns);
}

std::pair<std::string_view, std::string_view> split_namespace(std::string_view ns) {
  auto dot = ns.find('.');
  if (dot == std::string_view::npos) return {ns, {}};
  return {ns.substr(0, dot), ns.substr(dot + 1)};
}

}  // namespace bsonpipe::pipeline
