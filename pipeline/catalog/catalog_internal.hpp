// Helpers shared by the catalog's translation units (catalog.cpp, catalog_lock.cpp,
// catalog_prune.cpp, catalog_backup.cpp); not part of the catalog's public interface.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "io/storage.hpp"
#include "pipeline/catalog/catalog.hpp"

namespace bsonpipe::pipeline::catalog_detail {

// The storage a caller passed, or the local file system for null. Threading: any thread.
inline io::Storage& storage_or_local(io::Storage* storage) {
  return storage != nullptr ? *storage : io::local_storage();
}

inline std::filesystem::path lock_path(const std::filesystem::path& root) {
  return root / std::string(kCatalogLockName);
}

inline std::filesystem::path verified_marker(const std::filesystem::path& root, const std::string& id) {
  return root / std::string(kCatalogVerifiedDir) / (id + ".json");
}

std::int64_t now_utc_ms();
// `ms` (UTC milliseconds) formatted with strftime's `fmt`.
std::string utc_string(std::int64_t ms, const char* fmt);

}  // namespace bsonpipe::pipeline::catalog_detail
