// Namespace patterns as mongorestore 100.x reads them (mongorestore/ns/ns.go): --nsInclude and
// --nsExclude (NsMatcher, NsFilter) and --nsFrom/--nsTo (NsRenamer). One implementation for
// restore, copy and dump, so a pattern means the same thing everywhere.
//
// The rules, all of them mongorestore's:
// - A pattern matches a whole namespace. An unescaped `*` matches any run of characters, dots
//   included, as few as possible (so `*.*` splits "a.b.c" into "a" and "b.c").
// - Without any `$`: `\*` is a literal star, `\\` a literal backslash, a backslash before any
//   other character is dropped, and a `*` right after a backslash is never a wildcard (so `\\*`
//   is a literal backslash followed by a literal star).
// - --nsInclude/--nsExclude may not contain `$` at all.
// - --nsFrom/--nsTo: with a `$` in --nsFrom, `$name$` (name may be empty) captures a run and
//   --nsTo uses it by name; `*` and `\` are then ordinary characters on both sides. Without a
//   `$` in --nsFrom, both sides need the same number of unescaped `*`, and the stars are paired
//   by a numbering that mongorestore gives them: a star at the very start of the pattern is the
//   first, the others count from the right end. Patterns whose stars line up (e.g. `*.*` ->
//   `*_test.*`, `shop.*` -> `copy.*`) pair them left to right; a side that starts with `*` set
//   against one that does not (`a*.*` -> `*.*`) pairs them in another order, as mongorestore does.
// - Several --nsFrom/--nsTo pairs: the LAST pair that matches a namespace renames it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "formats/status.hpp"

namespace bsonpipe::pipeline {

// Internal representation shared by the matcher and the renamer: literal runs and captures.
namespace ns_detail {
struct Piece {
  std::string literal;  // used when slot < 0
  int slot = -1;        // >= 0: a capture (in the pattern), or the capture to insert (in a target)
};
using Pieces = std::vector<Piece>;
}  // namespace ns_detail

// `ns` as a pattern that matches only itself: a backslash before each `\` and `*`. `$` is left
// alone, so a name holding `$` makes no valid include/exclude pattern (as in mongorestore).
std::string escape_namespace_pattern(std::string_view ns);

// A set of --nsInclude or --nsExclude patterns: has(ns) if any of them matches.
class NsMatcher {
 public:
  // Fails on the first pattern holding a `$`.
  static Result<NsMatcher> create(const std::vector<std::string>& patterns);
  Status add(std::string_view pattern);
  bool has(std::string_view ns) const;
  bool empty() const { return patterns_.empty(); }

 private:
  std::vector<ns_detail::Pieces> patterns_;
};

// --nsInclude / --nsExclude together: no includes means everything is included; an excluded
// namespace is out even when included.
class NsFilter {
 public:
  Status include(std::string_view pattern) { return includes_.add(pattern); }
  Status exclude(std::string_view pattern) { return excludes_.add(pattern); }
  bool allows(std::string_view ns) const { return (includes_.empty() || includes_.has(ns)) && !excludes_.has(ns); }

 private:
  NsMatcher includes_, excludes_;
};

// --nsFrom/--nsTo pairs. A namespace no pair matches keeps its name.
class NsRenamer {
 public:
  // Pairs in command-line order. Every pair is checked (last to first, as mongorestore does);
  // the error names the pair.
  static Result<NsRenamer> create(const std::vector<std::string>& from, const std::vector<std::string>& to);
  std::string rename(std::string_view ns) const;
  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    ns_detail::Pieces from;
    ns_detail::Pieces to;
    int slots = 0;
  };
  std::vector<Rule> rules_;  // the last pair given first
};

// The namespace flags checked together, before anything connects, in mongorestore's order
// (includes, excludes, the pair count, then each pair): the first problem as one line.
struct NamespaceFlags {
  std::vector<std::string> include;  // --nsInclude
  std::vector<std::string> exclude;  // --nsExclude
  std::vector<std::string> from;     // --nsFrom
  std::vector<std::string> to;       // --nsTo
};
Status check_namespace_flags(const NamespaceFlags& flags);

// "db.coll" -> {"db", "coll"} at the first dot.
std::pair<std::string_view, std::string_view> split_namespace(std::string_view ns);

}  // namespace bsonpipe::pipeline
