// mongorestore's namespace-selection checks on a command line (restore_ns_flags.hpp).
#include "tools/bsonpipe/restore_ns_flags.hpp"

#include <cstdio>

#include "tools/bsonpipe/cli.hpp"

namespace bsonpipe::tools {

// mongorestore's checks of --oplogReplay against namespace selection, and its deprecated
// collection excludes turned into nsExclude patterns (mongorestore.go, in its order and words).
int restore_namespace_options(pipeline::PlanOptions& p, const std::vector<std::string>& exclude_collections,
                              const std::vector<std::string>& exclude_prefixes) {
  const bool excludes = !p.ns_exclude.empty() || !exclude_collections.empty() || !exclude_prefixes.empty();
  if (!exclude_collections.empty() || !exclude_prefixes.empty())
    std::fprintf(stderr,
                 "bsonpipe restore: the --excludeCollections and --excludeCollectionPrefixes options are deprecated "
                 "and will not exist in the future; use --nsExclude instead\n");
  if (p.oplog_replay) {
    if (!p.ns_include.empty() || !p.db.empty())
      return fail("restore", "cannot use --oplogReplay with includes specified");
    if (excludes) return fail("restore", "cannot use --oplogReplay with excludes specified");
    if (!p.ns_from.empty()) return fail("restore", "cannot use --oplogReplay with namespace renames specified");
  }
  if (!exclude_collections.empty() && !p.collection.empty())
    return fail("restore", "--collection is not allowed when --excludeCollection is specified");
  if (!exclude_prefixes.empty() && !p.collection.empty())
    return fail("restore", "--collection is not allowed when --excludeCollectionsWithPrefix is specified");
  // ns.Escape: a backslash and a star in a name are literal.
  auto escape = [](const std::string& name) {
    std::string out;
    for (char c : name) {
      if (c == '\\' || c == '*') out += '\\';
      out += c;
    }
    return out;
  };
  for (const auto& c : exclude_collections) p.ns_exclude.push_back("*." + escape(c));
  for (const auto& c : exclude_prefixes) p.ns_exclude.push_back("*." + escape(c) + "*");
  return 0;
}

}  // namespace bsonpipe::tools
