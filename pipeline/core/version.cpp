#include "pipeline/core/version.hpp"

namespace bsonpipe::pipeline {

std::string_view tool_version() {
  return "0.1.0";
}

}  // namespace bsonpipe::pipeline
