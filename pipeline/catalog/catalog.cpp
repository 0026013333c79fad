// Catalog ids and the catalog listing (list_catalog, find_catalog_entry, resolve_catalog_dump):
// every directory, manifest and marker is read through io::Storage.
#include "pipeline/catalog/catalog.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>

#include "io/file.hpp"
#include "pipeline/catalog/catalog_internal.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using catalog_detail::storage_or_local;

namespace catalog_detail {

std::int64_t now_utc_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string utc_string(std::int64_t ms, const char* fmt) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  if (ms < 0 && ms % 1000 != 0) --t;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

}  // namespace catalog_detail

namespace {

// Deeper than any dump (ROOT/<id>/<db>/<file>): a bound, in case a listing loops.
constexpr int kMaxTreeDepth = 32;

// Bytes of the files below `dir`, leaving out the bundled files' tree at the top (see
// CatalogEntry::size). Unreadable parts count as empty: the size is for information only.
std::uint64_t tree_size(io::Storage& st, const fs::path& dir, int depth = 0) {
  auto entries = st.list(dir);
  if (!entries || depth > kMaxTreeDepth) return 0;
  std::uint64_t total = 0;
  for (const auto& e : *entries) {
    if (depth == 0 && e.name == formats::kBundleDir) continue;
    total += e.directory ? tree_size(st, dir / e.name, depth + 1) : e.size;
  }
  return total;
}

// Reads ROOT/<id>/manifest.json into `c` (manifest, state, namespaces, absent namespaces, or
// the problem that makes it incomplete).
void read_entry_manifest(io::Storage& st, CatalogEntry& c) {
  fs::path mp = c.dir / std::string(formats::kManifestName);
  auto there = st.exists(mp);
  if (!there || !*there) return;
  auto bytes = st.read_all(mp);
  if (!bytes) {
    c.problem = mp.string() + ": " + bytes.status().to_string();
    return;
  }
  std::string text(bytes->begin(), bytes->end());
  auto m = formats::manifest_from_json(text);
  auto absent = m ? absent_namespaces_from_manifest(text) : Result<std::vector<std::string>>(m.status());
  if (!m) {
    c.problem = mp.string() + ": " + m.status().to_string();
  } else if (!absent) {
    // An undo that would not drop what it should is no complete backup.
    c.problem = mp.string() + ": " + absent.status().to_string();
  } else {
    c.absent_namespaces = std::move(*absent);
    c.manifest = std::move(*m);
    if (c.manifest->complete) c.state = CatalogState::kComplete;
    std::set<std::string> ns;
    for (const auto& f : c.manifest->files)
      if (!f.ns.empty()) ns.insert(f.ns);
    c.namespaces.assign(ns.begin(), ns.end());
  }
}

// The entry a directory of ROOT named `name` stands for; nullopt if the name is no catalog id.
std::optional<CatalogEntry> read_entry(io::Storage& st, const fs::path& root, const std::string& name) {
  CatalogEntry c;
  c.dir = root / name;
  c.id = name;
  if (name.ends_with(io::kPartialSuffix)) {
    c.partial = true;
    c.id = name.substr(0, name.size() - io::kPartialSuffix.size());
  }
  auto t = parse_catalog_id(c.id);
  if (!t) return std::nullopt;
  c.time_ms = t->first;
  c.seq = t->second;
  if (!c.partial) read_entry_manifest(st, c);
  c.size = tree_size(st, c.dir);
  if (c.manifest)
    for (const auto& f : c.manifest->bundled) c.size += f.size;
  if (c.complete()) {
    auto v = st.exists(catalog_detail::verified_marker(root, c.id));
    c.verified = v && *v;
  }
  return c;
}

}  // namespace

std::string catalog_id_for(std::int64_t utc_ms) {
  return catalog_detail::utc_string(utc_ms, "%Y-%m-%dT%H-%M-%SZ");
}

std::optional<std::pair<std::int64_t, int>> parse_catalog_id(std::string_view id) {
  // YYYY-MM-DDTHH-MM-SSZ[-N]
  if (id.size() < 20) return std::nullopt;
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (id[i] < '0' || id[i] > '9') return false;
      out = out * 10 + (id[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!digits(0, 4, y) || id[4] != '-' || !digits(5, 2, mo) || id[7] != '-' || !digits(8, 2, d) || id[10] != 'T' ||
      !digits(11, 2, h) || id[13] != '-' || !digits(14, 2, mi) || id[16] != '-' || !digits(17, 2, s) || id[19] != 'Z')
    return std::nullopt;
  int seq = 0;
  if (id.size() > 20) {
    if (id[20] != '-' || id.size() == 21 || id.size() > 30) return std::nullopt;
    if (!digits(21, id.size() - 21, seq) || seq <= 0 || id[21] == '0') return std::nullopt;
  }
  using namespace std::chrono;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  auto t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s);
  return std::pair{duration_cast<milliseconds>(t.time_since_epoch()).count(), seq};
}

std::string_view catalog_state_name(CatalogState s) {
  switch (s) {
    case CatalogState::kComplete: return "complete";
    case CatalogState::kIncomplete: return "incomplete";
    case CatalogState::kWriting: return "writing";
  }
  return "?";
}

Result<std::vector<CatalogEntry>> list_catalog(const fs::path& root, io::Storage* storage) {
  io::Storage& st = storage_or_local(storage);
  auto is_dir = st.is_directory(root);
  if (!is_dir || !*is_dir) return Status(ErrorCode::kInvalidArgument, root.string() + ": no such catalog directory");
  auto names = st.list(root);
  if (!names) return names.status();
  std::vector<CatalogEntry> out;
  for (const auto& e : *names) {
    if (!e.directory) continue;
    if (auto c = read_entry(st, root, e.name)) out.push_back(std::move(*c));
  }
  // Read after listing: a dump that started meanwhile has no directory in the list yet, and one
  // listed while being written has its id in the lock file already (written before its staging
  // directory is created).
  if (auto holder = catalog_lock_holder(root, &st); holder && !holder->id.empty())
    for (auto& c : out)
      if (c.id == holder->id && !c.complete()) c.state = CatalogState::kWriting;
  std::sort(out.begin(), out.end(), [](const CatalogEntry& a, const CatalogEntry& b) {
    if (a.time_ms != b.time_ms) return a.time_ms > b.time_ms;
    if (a.seq != b.seq) return a.seq > b.seq;
    return a.partial < b.partial;
  });
  return out;
}

Result<CatalogEntry> find_catalog_entry(const fs::path& root, const std::string& id, io::Storage* storage) {
  auto all = list_catalog(root, storage);
  if (!all) return all.status();
  for (auto& c : *all) {
    if (id == "latest" && c.complete()) return c;
    if (id != "latest" && c.id == id && !c.partial) return c;
  }
  for (auto& c : *all)
    if (c.id == id) return c;  // only a .partial
  if (id == "latest") return Status(ErrorCode::kInvalidArgument, "catalog " + root.string() + " has no complete dump");
  return Status(ErrorCode::kInvalidArgument, "catalog " + root.string() + " has no dump with id " + id);
}

Result<CatalogEntry> resolve_catalog_dump(const fs::path& root, const std::string& id, std::string_view action,
                                          io::Storage* storage) {
  auto e = find_catalog_entry(root, id, storage);
  if (!e) return e.status();
  if (!e->complete())
    return Status(ErrorCode::kInvalidArgument,
                  "catalog dump " + e->id + " is " + std::string(catalog_state_name(e->state)) + ": refusing to " +
                      std::string(action) + " it" + (e->problem.empty() ? "" : " (" + e->problem + ")"));
  return e;
}

}  // namespace bsonpipe::pipeline
