#include "pipeline/catalog.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "formats/bson.hpp"
#include "formats/extjson.hpp"
#include "io/commands.hpp"
#include "io/file.hpp"
#include "io/uri.hpp"
#include "pipeline/namespaces.hpp"
#include "pipeline/restore_plan.hpp"
#include "pipeline/restore_source.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;

namespace {

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

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

fs::path lock_path(const fs::path& root) {
  return root / std::string(kCatalogLockName);
}

// The lock file's text: "pid=..\nhost=..\nsince=..\nid=..\n".
CatalogLockHolder parse_holder(const std::string& text) {
  CatalogLockHolder h;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "pid") h.pid = std::strtol(v.c_str(), nullptr, 10);
    if (k == "host") h.host = v;
    if (k == "since") h.since = v;
    if (k == "id") h.id = v;
  }
  return h;
}

std::string read_fd_text(int fd) {
  std::string out;
  char buf[1024];
  off_t pos = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf, sizeof buf, pos);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    pos += n;
  }
  return out;
}

std::uint64_t tree_size(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec) && !it->is_symlink(fec)) total += it->file_size(fec);
  }
  return total;
}

// ISO 8601 week of a UTC day: "2026-W47".
std::string iso_week(std::int64_t ms) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  weekday wd(day);
  // The Thursday of the same ISO week decides the ISO year.
  sys_days thursday = day + days(4 - static_cast<int>(wd.iso_encoding()));
  year_month_day ymd(thursday);
  sys_days jan1 = sys_days(ymd.year() / January / 1);
  int week = static_cast<int>((thursday - jan1).count() / 7) + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d-W%02d", static_cast<int>(ymd.year()), week);
  return buf;
}

}  // namespace

std::string CatalogLockHolder::to_string() const {
  std::string s = "pid " + std::to_string(pid) + " on host " + (host.empty() ? "?" : host);
  if (!since.empty()) s += " since " + since;
  if (!id.empty()) s += " writing " + id;
  return s;
}

CatalogLock::CatalogLock(CatalogLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)), root_(std::move(o.root_)) {}

CatalogLock& CatalogLock::operator=(CatalogLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = std::exchange(o.fd_, -1);
    root_ = std::move(o.root_);
  }
  return *this;
}

CatalogLock::~CatalogLock() {
  release();
}

void CatalogLock::release() {
  if (fd_ < 0) return;
  // Emptied first, so a reader never names a holder that is gone.
  if (::ftruncate(fd_, 0) != 0) {
    // Harmless: the content only matters while the flock is held.
  }
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  fd_ = -1;
}

Result<CatalogLock> CatalogLock::acquire(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Status(ErrorCode::kIo, "cannot create catalog " + root.string() + ": " + ec.message());
  fs::path p = lock_path(root);
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status(ErrorCode::kIo, "cannot open " + p.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string text = read_fd_text(fd);
    ::close(fd);
    if (err != EWOULDBLOCK) return Status(ErrorCode::kIo, "cannot lock " + p.string() + ": " + std::strerror(err));
    CatalogLockHolder h = parse_holder(text);
    return Status(ErrorCode::kInvalidArgument, "catalog " + root.string() + " is locked by another bsonpipe (" +
                                                   h.to_string() + "); two dumps cannot write one catalog at once");
  }
  CatalogLock lock;
  lock.fd_ = fd;
  lock.root_ = root;
  if (Status s = lock.set_id(""); !s) return s;
  return lock;
}

Status CatalogLock::set_id(const std::string& id) {
  std::string text = "pid=" + std::to_string(::getpid()) + "\nhost=" + host_name() +
                     "\nsince=" + utc_string(now_utc_ms(), "%Y-%m-%dT%H:%M:%SZ") + "\nid=" + id + "\n";
  fs::path p = lock_path(root_);
  if (::ftruncate(fd_, 0) != 0)
    return Status(ErrorCode::kIo, "cannot write " + p.string() + ": " + std::strerror(errno));
  if (::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    return Status(ErrorCode::kIo, "cannot write " + p.string() + ": " + std::strerror(errno));
  return {};
}

std::optional<CatalogLockHolder> catalog_lock_holder(const fs::path& root) {
  fs::path p = lock_path(root);
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<CatalogLockHolder> out;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);
  } else {
    out = parse_holder(read_fd_text(fd));
  }
  ::close(fd);
  return out;
}

std::string catalog_id_for(std::int64_t utc_ms) {
  return utc_string(utc_ms, "%Y-%m-%dT%H-%M-%SZ");
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

Result<std::vector<CatalogEntry>> list_catalog(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return Status(ErrorCode::kInvalidArgument, root.string() + ": no such catalog directory");
  std::vector<CatalogEntry> out;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    std::error_code dec;
    if (!e.is_directory(dec) || e.is_symlink(dec)) continue;
    std::string name = e.path().filename().string();
    CatalogEntry c;
    c.dir = e.path();
    c.id = name;
    if (name.ends_with(io::kPartialSuffix)) {
      c.partial = true;
      c.id = name.substr(0, name.size() - io::kPartialSuffix.size());
    }
    auto t = parse_catalog_id(c.id);
    if (!t) continue;
    c.time_ms = t->first;
    c.seq = t->second;
    fs::path mp = c.dir / std::string(formats::kManifestName);
    if (!c.partial && fs::exists(mp, dec)) {
      std::ifstream in(mp, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = ss.str();
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
    c.size = tree_size(c.dir);
    c.verified = c.complete() && fs::exists(root / std::string(kCatalogVerifiedDir) / (c.id + ".json"), dec);
    out.push_back(std::move(c));
  }
  if (ec) return Status(ErrorCode::kIo, "cannot list " + root.string() + ": " + ec.message());
  // Read after listing: a dump that started meanwhile has no directory in the list yet, and one
  // listed while being written has its id in the lock file already (written before its staging
  // directory is created).
  if (auto holder = catalog_lock_holder(root); holder && !holder->id.empty())
    for (auto& c : out)
      if (c.id == holder->id && !c.complete()) c.state = CatalogState::kWriting;
  std::sort(out.begin(), out.end(), [](const CatalogEntry& a, const CatalogEntry& b) {
    if (a.time_ms != b.time_ms) return a.time_ms > b.time_ms;
    if (a.seq != b.seq) return a.seq > b.seq;
    return a.partial < b.partial;
  });
  return out;
}

Result<CatalogEntry> find_catalog_entry(const fs::path& root, const std::string& id) {
  auto all = list_catalog(root);
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

Result<CatalogEntry> resolve_catalog_dump(const fs::path& root, const std::string& id, std::string_view action) {
  auto e = find_catalog_entry(root, id);
  if (!e) return e.status();
  if (!e->complete())
    return Status(ErrorCode::kInvalidArgument,
                  "catalog dump " + e->id + " is " + std::string(catalog_state_name(e->state)) + ": refusing to " +
                      std::string(action) + " it" + (e->problem.empty() ? "" : " (" + e->problem + ")"));
  return e;
}

Status remove_catalog_entry(const fs::path& root, const std::string& id) {
  if (!parse_catalog_id(id)) return {ErrorCode::kInvalidArgument, "'" + id + "' is not a catalog id"};
  auto holder = catalog_lock_holder(root);
  if (holder && holder->id == id)
    return {ErrorCode::kInvalidArgument,
            "dump " + id + " is being written right now (catalog locked by " + holder->to_string() + ")"};
  bool found = false;
  for (const fs::path& p : {root / id, root / (id + std::string(io::kPartialSuffix))}) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(p, ec))) continue;
    found = true;
    fs::remove_all(p, ec);
    if (ec) return {ErrorCode::kIo, "cannot remove " + p.string() + ": " + ec.message()};
  }
  if (!found) return {ErrorCode::kInvalidArgument, "catalog " + root.string() + " has no dump with id " + id};
  std::error_code ec;
  fs::remove(root / std::string(kCatalogVerifiedDir) / (id + ".json"), ec);
  return {};
}

std::vector<PruneDecision> plan_prune(const std::vector<CatalogEntry>& entries, const PrunePolicy& policy) {
  std::vector<PruneDecision> out;
  std::vector<std::size_t> order(entries.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (entries[a].time_ms != entries[b].time_ms) return entries[a].time_ms > entries[b].time_ms;
    return entries[a].seq > entries[b].seq;
  });
  const CatalogEntry* newest_complete = nullptr;
  for (std::size_t i : order)
    if (entries[i].complete()) {
      newest_complete = &entries[i];
      break;
    }
  int last_taken = 0;
  std::set<std::string> days, weeks;
  for (std::size_t i : order) {
    const CatalogEntry& e = entries[i];
    PruneDecision d{e, false, ""};
    std::vector<std::string> why;
    if (e.state == CatalogState::kWriting) {
      why.push_back("being written");
    } else if (!e.complete()) {
      bool older =
          newest_complete != nullptr && (e.time_ms < newest_complete->time_ms ||
                                         (e.time_ms == newest_complete->time_ms && e.seq < newest_complete->seq));
      if (!older) why.push_back("incomplete but newer than the newest complete dump");
    } else {
      if (&e == newest_complete) why.push_back("newest complete");
      if (last_taken < policy.keep_last) {
        ++last_taken;
        why.push_back("last " + std::to_string(last_taken));
      }
      std::string day = utc_string(e.time_ms, "%Y-%m-%d");
      if (!days.count(day) && static_cast<int>(days.size()) < policy.keep_daily) {
        days.insert(day);
        why.push_back("daily " + day);
      }
      std::string week = iso_week(e.time_ms);
      if (!weeks.count(week) && static_cast<int>(weeks.size()) < policy.keep_weekly) {
        weeks.insert(week);
        why.push_back("weekly " + week);
      }
    }
    if (!why.empty()) {
      d.keep = true;
      for (std::size_t k = 0; k < why.size(); ++k) d.reason += (k ? ", " : "") + why[k];
    } else if (!e.complete()) {
      d.reason = "incomplete, older than the newest complete dump";
    } else {
      d.reason = "not selected by --keep-last/--keep-daily/--keep-weekly";
    }
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<PruneDecision>> prune_catalog(const fs::path& root, const PrunePolicy& policy, bool dry_run) {
  auto entries = list_catalog(root);
  if (!entries) return entries.status();
  auto plan = plan_prune(*entries, policy);
  if (dry_run) return plan;
  for (auto& d : plan) {
    if (d.keep) continue;
    // Checked again right before removing: a dump may have started since the listing.
    if (auto holder = catalog_lock_holder(root); holder && holder->id == d.entry.id) {
      d.keep = true;
      d.reason = "being written";
      continue;
    }
    std::error_code ec;
    fs::remove_all(d.entry.dir, ec);
    if (ec) return Status(ErrorCode::kIo, "cannot remove " + d.entry.dir.string() + ": " + ec.message());
    fs::remove(root / std::string(kCatalogVerifiedDir) / (d.entry.id + ".json"), ec);
  }
  return plan;
}

namespace {

// run_catalog_dump, with `finish` run on the moved-into-place dump while the lock is still held
// (so no prune or remove can see it before it is finished). A failing `finish` removes the dump.
Result<CatalogDumpResult> catalog_dump(const fs::path& root, DumpOptions opts,
                                       const std::function<Status(CatalogDumpResult&)>& finish) {
  auto lock = CatalogLock::acquire(root);
  if (!lock) return lock.status();
  // A fresh id: neither ROOT/<id> nor ROOT/<id>.partial exists (we hold the lock, so no other
  // writer can take it meanwhile).
  std::string base = catalog_id_for(now_utc_ms());
  std::string id = base;
  for (int n = 1;; ++n) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(root / id, ec)) &&
        !fs::exists(fs::symlink_status(root / (id + std::string(io::kPartialSuffix)), ec)))
      break;
    id = base + "-" + std::to_string(n);
  }
  if (Status s = lock->set_id(id); !s) return s;
  opts.target = DumpTarget::kDirectory;
  opts.out = root / id;
  auto sum = run_dump(opts);
  if (!sum)
    return Status(sum.status().code(), "catalog dump " + id + ": " + sum.status().message(), sum.status().offset());
  CatalogDumpResult out{id, root / id, std::move(*sum), {}};
  if (finish) {
    if (Status s = finish(out); !s) {
      std::error_code ec;
      fs::remove_all(out.dir, ec);
      return Status(s.code(), "catalog dump " + id + ": " + s.message() + " (the dump was removed)");
    }
  }
  return out;
}

// The restore's target (--uri), its primary.
Result<std::unique_ptr<io::Connection>> connect_restore_target(const RestoreOptions& opts) {
  auto uri = io::parse_uri(opts.uri);
  if (!uri) return Status(uri.status().code(), "--uri: " + uri.status().to_string());
  auto conn = io::connect_selected(*uri, io::ReadPreferenceMode::kPrimary);
  if (!conn) return Status(ErrorCode::kNetwork, "connecting to " + uri->redacted() + ": " + conn.error().to_string());
  return std::move(*conn);
}

bool valid_namespace(std::string_view ns) {
  auto dot = ns.find('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < ns.size();
}

// Adds the absent namespaces to ROOT/<id>/manifest.json, before "complete" (which stays last),
// keeping everything else as it is; written to a temporary name and renamed.
Status record_absent_namespaces(const fs::path& dir, const std::vector<std::string>& absent) {
  fs::path mp = dir / std::string(formats::kManifestName);
  std::ifstream in(mp, std::ios::binary);
  if (!in) return {ErrorCode::kIo, "cannot read " + mp.string()};
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = formats::extjson::parse(ss.str());
  if (!parsed) return {parsed.status().code(), mp.string() + ": " + parsed.status().message()};
  formats::DocView doc(*parsed);
  formats::Builder b;
  for (auto e : doc)
    if (e.key() != "complete" && e.key() != kAbsentNamespacesKey) b.append_raw_element(e.raw());
  b.open_array(kAbsentNamespacesKey);
  for (const auto& ns : absent) b.append_string(b.next_array_key(), ns);
  b.close();
  auto complete = doc.find("complete");
  if (!complete.valid()) return {ErrorCode::kInvalidJson, mp.string() + ": no 'complete' field"};
  b.append_raw_element(complete.raw());
  formats::Bytes out_doc = b.finish();
  std::string text =
      formats::extjson::to_json(formats::DocView(out_doc), {.mode = formats::extjson::Mode::kRelaxed, .indent = 2});
  text.push_back('\n');
  // What is written must read back as the same manifest with this list.
  auto check = formats::manifest_from_json(text);
  auto check_absent = absent_namespaces_from_manifest(text);
  if (!check || !check_absent || *check_absent != absent)
    return {ErrorCode::kInternal, mp.string() + ": the manifest with absent namespaces does not read back"};
  std::error_code ec;
  auto perms = fs::status(mp, ec).permissions();
  auto w = io::AtomicFileWriter::create(mp);
  if (!w) return w.status();
  if (Status s = w->write(formats::ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())); !s)
    return s;
  if (Status s = w->commit(); !s) return s;
  if (!ec) fs::permissions(mp, perms, ec);
  return {};
}

}  // namespace

Result<CatalogDumpResult> run_catalog_dump(const fs::path& root, DumpOptions opts) {
  return catalog_dump(root, std::move(opts), nullptr);
}

Result<std::vector<std::string>> restore_target_namespaces(const RestoreOptions& opts) {
  Plan plan;
  if (opts.archive) {
    if (opts.archive_path.empty() || opts.archive_path == "-")
      return Status(ErrorCode::kInvalidArgument,
                    "--backup-first cannot plan a restore from standard input (it would have to be read twice): "
                    "give --archive=FILE");
    auto in = ArchiveInput::open(opts.archive_path, opts.gzip);
    if (!in) return in.status();
    formats::archive::Reader reader((*in)->source(), formats::archive::ReaderOptions{});
    auto prelude = reader.read_prelude();
    if (!prelude) return Status(prelude.status().code(), (*in)->name() + ": " + prelude.status().message());
    auto p = plan_archive(**prelude, opts.plan);
    if (!p) return p.status();
    plan = std::move(*p);
  } else {
    auto p = plan_directory(opts.input, opts.plan);
    if (!p) return p.status();
    plan = std::move(*p);
  }
  std::set<std::string> out;
  for (const auto& t : plan.targets) out.insert(t.ns());
  return std::vector<std::string>(out.begin(), out.end());
}

Result<CatalogDumpResult> backup_restore_targets(const fs::path& root, const RestoreOptions& opts,
                                                 const std::vector<std::string>& namespaces) {
  if (namespaces.empty()) return Status(ErrorCode::kInvalidArgument, "no namespaces to back up");
  DumpOptions d;
  d.uri = opts.uri;
  // Patterns only: an empty include list would mean "everything".
  for (const auto& ns : namespaces) d.ns_include.push_back(exact_namespace_pattern(ns));
  d.progress.mode = ProgressMode::kNone;
  d.progress.quiet = true;
  d.interrupt = opts.interrupt;

  // What exists before the dump: a namespace created meanwhile is then in the dump, so it is
  // not taken as absent.
  auto conn = connect_restore_target(opts);
  if (!conn) return conn.status();
  std::set<std::string> dbs, existing;
  for (const auto& ns : namespaces) dbs.insert(std::string(split_namespace(ns).first));
  for (const auto& db : dbs) {
    auto colls = io::list_collections(**conn, db);
    if (!colls)
      return Status(colls.status().code(), "listing the collections of " + db + ": " + colls.status().message());
    for (const auto& c : *colls) existing.insert(db + "." + c.name);
  }
  std::vector<std::string> candidates;
  for (const auto& ns : namespaces)
    if (!existing.count(ns)) candidates.push_back(ns);
  conn->reset();

  return catalog_dump(root, std::move(d), [&](CatalogDumpResult& r) -> Status {
    std::set<std::string> dumped;
    for (const auto& n : r.summary.namespaces) dumped.insert(n.ns);
    std::set<std::string> absent;
    for (const auto& ns : candidates)
      if (!dumped.count(ns)) absent.insert(ns);
    r.absent_namespaces.assign(absent.begin(), absent.end());
    if (r.absent_namespaces.empty()) return {};
    return record_absent_namespaces(r.dir, r.absent_namespaces);
  });
}

Result<std::vector<std::string>> absent_namespaces_from_manifest(std::string_view manifest_json) {
  auto parsed = formats::extjson::parse(manifest_json);
  if (!parsed) return Status(ErrorCode::kInvalidJson, "manifest.json: " + parsed.status().message());
  formats::DocView doc(*parsed);
  auto list = doc.find(kAbsentNamespacesKey);
  std::vector<std::string> out;
  if (!list.valid()) return out;
  const std::string bad = "manifest.json: field '" + std::string(kAbsentNamespacesKey) + "' ";
  if (list.type() != formats::BsonType::kArray)
    return Status(ErrorCode::kInvalidJson, bad + "is not an array of namespaces");
  for (auto e : list.as_document()) {
    if (e.type() != formats::BsonType::kString)
      return Status(ErrorCode::kInvalidJson, bad + "holds a value that is not a string");
    std::string ns(e.as_string());
    if (!valid_namespace(ns)) return Status(ErrorCode::kInvalidJson, bad + "holds '" + ns + "', not db.collection");
    out.push_back(std::move(ns));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status drop_absent_namespaces(const RestoreOptions& opts, const CatalogEntry& backup) {
  const auto& absent = backup.absent_namespaces;
  if (absent.empty()) return {};
  auto log = [&](const std::string& msg) {
    if (opts.log) opts.log(LogLevel::kInfo, msg);
  };
  std::string list;
  for (const auto& ns : absent) list += (list.empty() ? "" : ", ") + ns;
  const std::string what = "catalog dump " + backup.id + " records " + std::to_string(absent.size()) +
                           " namespace(s) absent from the target when it was taken (" + list + ")";
  if (!opts.drop) {
    log(what + ": not dropped (only a restore with --drop, the undo, drops them)");
    return {};
  }
  const auto& p = opts.plan;
  if (!p.db.empty() || !p.collection.empty() || !p.ns_from.empty() || !p.ns_to.empty()) {
    log(what + ": not dropped (with --db, --collection or --nsFrom/--nsTo they are not this restore's targets)");
    return {};
  }
  NsFilter filter;
  for (const auto& pat : p.ns_include)
    if (Status s = filter.include(pat); !s) return s;
  for (const auto& pat : p.ns_exclude)
    if (Status s = filter.exclude(pat); !s) return s;
  std::vector<std::string> selected;
  for (const auto& ns : absent)
    if (filter.allows(ns)) selected.push_back(ns);
  if (selected.empty()) return {};
  if (opts.dry_run) {
    for (const auto& ns : selected)
      log("dry run: would drop " + ns + " (absent from the target when catalog dump " + backup.id + " was taken)");
    return {};
  }
  auto conn = connect_restore_target(opts);
  if (!conn) return conn.status();
  for (const auto& ns : selected) {
    auto [db, coll] = split_namespace(ns);
    auto e = io::drop_collection(**conn, db, coll, false);
    if (!e) {
      if (io::is_namespace_not_found(e)) {
        log("not dropping " + ns + ": absent from the target when catalog dump " + backup.id +
            " was taken, and absent now");
        continue;
      }
      return Status(e.status().code(),
                    "dropping " + ns + " (absent when catalog dump " + backup.id + " was taken): " + e.to_string());
    }
    log("dropped " + ns + ": it did not exist on the target when catalog dump " + backup.id + " was taken");
  }
  return {};
}

std::string exact_namespace_pattern(std::string_view ns) {
  std::string out;
  for (char c : ns) {
    if (c == '*' || c == '$' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace bsonpipe::pipeline
