#include "pipeline/core/namespaces.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace bsonpipe::pipeline {

using ns_detail::Piece;
using ns_detail::Pieces;

namespace {

Status invalid(std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(message)};
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// Unescaped stars: those at the start or after anything but a backslash (a star after an
// escaped backslash, `\\*`, counts as escaped too: mongorestore looks at one character only).
std::vector<std::size_t> wildcard_positions(std::string_view s) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '*' && (i == 0 || s[i - 1] != '\\')) out.push_back(i);
  return out;
}

// Rewrites a pattern without `$` into the $variable$ form: each wildcard becomes `$N$` and the
// escapes are resolved. N follows mongorestore's order: a leading star is 1, the other stars
// count up from the right end.
std::string wildcards_to_variables(std::string_view s) {
  const auto stars = wildcard_positions(s);
  const bool leading = !stars.empty() && stars.front() == 0;
  std::vector<std::size_t> number(stars.size());
  std::size_t next = 1;
  if (leading) number[0] = next++;
  for (std::size_t k = stars.size(); k-- > (leading ? 1U : 0U);) number[k] = next++;

  std::string out;
  std::size_t star = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (star < stars.size() && stars[star] == i) {
      out += "$" + std::to_string(number[star++]) + "$";
    } else if (c == '\\') {
      // `\\` and `\*` keep their second character; any other backslash is dropped.
      if (i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == '*')) out.push_back(s[++i]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void append_literal(Pieces& pieces, char c) {
  if (pieces.empty() || pieces.back().slot >= 0) pieces.push_back({});
  pieces.back().literal.push_back(c);
}

// Parses the $variable$ form. With `defined` null, variables are defined (each name once) and
// numbered in order into `names`; otherwise each must be one of `*defined`.
Result<Pieces> parse_variables(std::string_view s, std::vector<std::string>* names,
                               const std::vector<std::string>* defined) {
  Pieces out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '$') {
      append_literal(out, s[i]);
      continue;
    }
    const auto close = s.find('$', i + 1);
    if (close == std::string_view::npos) return invalid("a '$' that starts no $variable$");
    const std::string name(s.substr(i + 1, close - i - 1));
    i = close;
    if (defined == nullptr) {
      if (std::find(names->begin(), names->end(), name) != names->end())
        return invalid("$" + name + "$ is used more than once");
      names->push_back(name);
      out.push_back({{}, static_cast<int>(names->size() - 1)});
    } else {
      auto it = std::find(defined->begin(), defined->end(), name);
      if (it == defined->end()) return invalid("$" + name + "$ is not a variable of the --nsFrom pattern");
      out.push_back({{}, static_cast<int>(it - defined->begin())});
    }
  }
  return out;
}

// Whole-namespace match, captures shortest first and left to right (what the lazy `(.*?)`
// groups of mongorestore's regular expression pick). Failed (piece, offset) pairs are
// remembered, so no pattern takes more than pieces x length^2 steps.
class Matcher {
 public:
  Matcher(const Pieces& pieces, std::string_view ns, std::vector<std::string_view>* captures)
      : pieces_(pieces), ns_(ns), captures_(captures), failed_(pieces.size() * (ns.size() + 1), 0) {}

  bool run() { return from(0, 0); }

 private:
  bool from(std::size_t piece, std::size_t at) {
    if (piece == pieces_.size()) return at == ns_.size();
    std::uint8_t& failed = failed_[piece * (ns_.size() + 1) + at];
    if (failed) return false;
    const Piece& p = pieces_[piece];
    if (p.slot < 0) {
      if (ns_.substr(at).starts_with(p.literal) && from(piece + 1, at + p.literal.size())) return true;
    } else {
      for (std::size_t end = at; end <= ns_.size(); ++end) {
        if (from(piece + 1, end)) {
          if (captures_ != nullptr) (*captures_)[static_cast<std::size_t>(p.slot)] = ns_.substr(at, end - at);
          return true;
        }
      }
    }
    failed = 1;
    return false;
  }

  const Pieces& pieces_;
  std::string_view ns_;
  std::vector<std::string_view>* captures_;
  std::vector<std::uint8_t> failed_;
};

bool matches(const Pieces& pieces, std::string_view ns, std::vector<std::string_view>* captures = nullptr) {
  if (pieces.size() == 1 && pieces[0].slot < 0) return ns == pieces[0].literal;
  return Matcher(pieces, ns, captures).run();
}

std::size_t count_char(std::string_view s, char c) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), c));
}

}  // namespace

std::string escape_namespace_pattern(std::string_view ns) {
  std::string out;
  for (char c : ns) {
    if (c == '\\' || c == '*') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

Status NsMatcher::add(std::string_view pattern) {
  if (pattern.find('$') != std::string_view::npos)
    return invalid("pattern " + quoted(pattern) + ": '$' is not allowed in --nsInclude/--nsExclude patterns");
  std::vector<std::string> names;
  auto pieces = parse_variables(wildcards_to_variables(pattern), &names, nullptr);
  if (!pieces) return invalid("pattern " + quoted(pattern) + ": " + pieces.status().message());
  patterns_.push_back(std::move(*pieces));
  return {};
}

Result<NsMatcher> NsMatcher::create(const std::vector<std::string>& patterns) {
  NsMatcher m;
  for (const auto& p : patterns)
    if (Status s = m.add(p); !s) return s;
  return m;
}

bool NsMatcher::has(std::string_view ns) const {
  return std::any_of(patterns_.begin(), patterns_.end(), [&](const Pieces& p) { return matches(p, ns); });
}

Result<NsRenamer> NsRenamer::create(const std::vector<std::string>& from, const std::vector<std::string>& to) {
  if (from.size() != to.size())
    return invalid("--nsFrom and --nsTo must be given the same number of times (" + std::to_string(from.size()) +
                   " --nsFrom, " + std::to_string(to.size()) + " --nsTo)");
  NsRenamer r;
  for (std::size_t i = from.size(); i-- > 0;) {
    const std::string_view f = from[i], t = to[i];
    const std::string pair = "--nsFrom " + quoted(f) + " --nsTo " + quoted(t) + ": ";
    std::string f_form, t_form;
    if (f.find('$') != std::string_view::npos) {
      if (count_char(f, '$') % 2 != 0) return invalid(pair + "odd number of '$' in --nsFrom");
      if (count_char(t, '$') % 2 != 0) return invalid(pair + "odd number of '$' in --nsTo");
      f_form = f;
      t_form = t;
    } else {
      const auto nf = wildcard_positions(f).size(), nt = wildcard_positions(t).size();
      if (nf != nt)
        return invalid(pair + "--nsFrom has " + std::to_string(nf) + " unescaped '*' and --nsTo has " +
                       std::to_string(nt) + "; they must have the same number");
      f_form = wildcards_to_variables(f);
      t_form = wildcards_to_variables(t);
    }
    std::vector<std::string> names;
    auto fp = parse_variables(f_form, &names, nullptr);
    if (!fp) return invalid(pair + "--nsFrom: " + fp.status().message());
    auto tp = parse_variables(t_form, nullptr, &names);
    if (!tp) return invalid(pair + "--nsTo: " + tp.status().message());
    r.rules_.push_back({std::move(*fp), std::move(*tp), static_cast<int>(names.size())});
  }
  return r;
}

std::string NsRenamer::rename(std::string_view ns) const {
  for (const auto& rule : rules_) {
    std::vector<std::string_view> captures(static_cast<std::size_t>(rule.slots));
    if (!matches(rule.from, ns, &captures)) continue;
    std::string out;
    for (const auto& p : rule.to)
      out += p.slot < 0 ? std::string_view(p.literal) : captures[static_cast<std::size_t>(p.slot)];
    return out;
  }
  return std::string(ns);
}

Status check_namespace_flags(const NamespaceFlags& flags) {
  if (auto m = NsMatcher::create(flags.include); !m) return invalid("invalid --nsInclude " + m.status().message());
  if (auto m = NsMatcher::create(flags.exclude); !m) return invalid("invalid --nsExclude " + m.status().message());
  if (auto r = NsRenamer::create(flags.from, flags.to); !r) return invalid("invalid rename: " + r.status().message());
  return {};
}

std::pair<std::string_view, std::string_view> split_namespace(std::string_view ns) {
  auto dot = ns.find('.');
  if (dot == std::string_view::npos) return {ns, {}};
  return {ns.substr(0, dot), ns.substr(dot + 1)};
}

}  // namespace bsonpipe::pipeline
