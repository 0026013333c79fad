// The tool's version, as written into archives and manifests.
#pragma once

#include <string_view>

namespace bsonpipe::pipeline {

std::string_view tool_version();

}  // namespace bsonpipe::pipeline
