// mongorestore's checks of --oplogReplay against namespace selection, and its deprecated
// --excludeCollection/--excludeCollectionsWithPrefix turned into nsExclude patterns.
#pragma once

#include <string>
#include <vector>

#include "pipeline/ops/restore_plan.hpp"

namespace bsonpipe::tools {

// Checks `p` as mongorestore.go does (in its order and words) and appends the excludes' patterns
// ("*.NAME", "*.PREFIX*") to p.ns_exclude. Prints one line and returns 1 when refused, else 0.
int restore_namespace_options(pipeline::PlanOptions& p, const std::vector<std::string>& exclude_collections,
                              const std::vector<std::string>& exclude_prefixes);

}  // namespace bsonpipe::tools
