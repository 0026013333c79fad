// `$v: 2` delta updates, as a MongoDB 5+ primary logs an operator update in its oplog
// ({"$v": 2, "diff": {"d": {...}, "u": {...}, "i": {...}, "s<field>": {...}}}): making one from a
// document's before and after images, and applying one (applyOps, oplog replay onto minimongod).
//
// Threading: pure functions.
#pragma once

#include <optional>

#include "formats/bson.hpp"
#include "tools/minimongod/errors.hpp"

namespace bsonpipe::minimongod {

// The `$v: 2` update that turns `before` into `after`, or nullopt when the change is not a plain
// top-level delta (fields reordered, _id changed): the caller then logs the full replacement.
std::optional<formats::Bytes> make_v2_update(formats::DocView before, formats::DocView after);

// True when `o` is a `$v: 2` delta update ({"$v": 2, "diff": {...}}).
bool is_v2_update(formats::DocView o);

// Applies a `$v: 2` delta update (`o` as logged) to `doc`. Array diffs ("a": true) are refused.
Expected<formats::Bytes> apply_v2_update(formats::DocView doc, formats::DocView o);

}  // namespace bsonpipe::minimongod
