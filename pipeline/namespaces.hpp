// Namespace selection and renaming with mongorestore's pattern rules: `*` matches any run of
// characters, `$name$` captures one (for --nsFrom/--nsTo), `\` escapes the next character.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "formats/status.hpp"

namespace bsonpipe::pipeline {

class NsPattern {
 public:
  static Result<NsPattern> compile(std::string_view pattern);
  // True if `ns` matches; captured `$var$` values go into `vars` when given.
  bool match(std::string_view ns, std::map<std::string, std::string>* vars = nullptr) const;
  // Fills `$var$` placeholders from `vars`; fails on a variable that is not there.
  Result<std::string> expand(const std::map<std::string, std::string>& vars) const;
  const std::string& text() const { return text_; }
  std::vector<std::string> variables() const;

 private:
  struct Token {
    enum Kind : std::uint8_t { kLiteral, kStar, kVar } kind;
    std::string text;  // literal text or variable name
  };
  bool match_from(std::size_t ti, std::string_view rest, std::map<std::string, std::string>* vars) const;
  std::string text_;
  std::vector<Token> tokens_;
};

// --nsInclude / --nsExclude (plus --db/--collection expressed as patterns). Empty includes mean
// "everything".
class NsFilter {
 public:
  Status include(std::string_view pattern);
  Status exclude(std::string_view pattern);
  bool allows(std::string_view ns) const;

 private:
  std::vector<NsPattern> includes_, excludes_;
};

// --nsFrom / --nsTo pairs; the first matching pair renames. Unmatched namespaces stay as they are.
class NsRenamer {
 public:
  Status add(std::string_view from, std::string_view to);
  Result<std::string> rename(std::string_view ns) const;
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<std::pair<NsPattern, NsPattern>> rules_;
};

// "db.coll" -> {"db", "coll"} at the first dot.
std::pair<std::string_view, std::string_view> split_namespace(std::string_view ns);

}  // namespace bsonpipe::pipeline
