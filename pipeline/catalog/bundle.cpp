#include "pipeline/catalog/bundle.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "formats/hash.hpp"
#include "io/file.hpp"

namespace bsonpipe::pipeline {

namespace fs = std::filesystem;
using formats::BundledFile;
using formats::BundledRoot;

namespace {

Status io_error(const std::string& what, const fs::path& p, int err) {
  return {ErrorCode::kIo, what + " " + p.string() + ": " + std::strerror(err)};
}

io::Storage& storage_or_local(io::Storage* storage) {
  return storage != nullptr ? *storage : io::local_storage();
}

// Closes a file descriptor on every exit path.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool excluded(const std::vector<std::string>& globs, const std::string& rel, const std::string& base) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) {
    return ::fnmatch(g.c_str(), rel.c_str(), 0) == 0 || ::fnmatch(g.c_str(), base.c_str(), 0) == 0;
  });
}

// Copies one regular file of the (local) source tree, no symlink followed (O_NOFOLLOW), into the
// dump's storage, and returns its XXH3-128. The copy's mode is the storage's default (owner
// read-write under the dump's umask): the original bits are in the manifest and restored by
// restore_bundle.
Result<std::string> copy_file(io::Storage& st, const fs::path& from, const fs::path& to, std::uint64_t& bytes,
                              const std::stop_token& interrupt) {
  Fd in(::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (in.fd < 0) return io_error("cannot open", from, errno);
  auto out = st.create(to);
  if (!out) return out.status();
  formats::Xxh3Hasher h;
  std::vector<std::uint8_t> buf(1 << 20);
  while (true) {
    if (interrupt.stop_requested()) return Status(ErrorCode::kCancelled, "interrupted");
    ssize_t n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read", from, errno);
    if (n == 0) break;
    formats::ByteSpan chunk(buf.data(), static_cast<std::size_t>(n));
    h.update(chunk);
    if (Status s = (*out)->write(chunk); !s) return s;
    bytes += static_cast<std::uint64_t>(n);
  }
  if (Status s = (*out)->commit(); !s) return s;
  return h.hex_digest();
}

// Copies source trees (local) into the dump (opts.storage). Threading: one thread.
struct Copier {
  const BundleOptions& opts;
  BundleResult& result;
  io::Storage& storage;

  // Copies the children of `src` (relative path `rel` under the include root) into `dst`.
  Status copy_tree(const fs::path& src, const std::string& rel, const fs::path& dst, const std::string& manifest_dir) {
    std::error_code ec;
    std::vector<fs::path> children;
    for (const auto& e : fs::directory_iterator(src, ec)) children.push_back(e.path());
    if (ec) return {ErrorCode::kIo, "cannot list " + src.string() + ": " + ec.message()};
    std::sort(children.begin(), children.end());
    for (const auto& child : children) {
      if (opts.interrupt.stop_requested()) return {ErrorCode::kCancelled, "interrupted"};
      std::string base = child.filename().string();
      std::string child_rel = rel.empty() ? base : rel + "/" + base;
      if (excluded(opts.excludes, child_rel, base)) continue;
      struct stat st {};
      if (::lstat(child.c_str(), &st) != 0) return io_error("cannot stat", child, errno);
      BundledFile f;
      f.path = manifest_dir + "/" + child_rel;
      f.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
      fs::path out = dst / base;
      if (S_ISDIR(st.st_mode)) {
        f.type = "dir";
        // The storage's default mode (see copy_file); the original bits are in the manifest.
        if (Status s = storage.make_directories(out); !s) return s;
        result.files.push_back(f);
        if (Status s = copy_tree(child, child_rel, out, manifest_dir); !s) return s;
      } else if (S_ISLNK(st.st_mode)) {
        f.type = "symlink";
        std::error_code lec;
        f.target = fs::read_symlink(child, lec).string();
        if (lec) return {ErrorCode::kIo, "cannot read link " + child.string() + ": " + lec.message()};
        if (!opts.links)
          return {ErrorCode::kInvalidArgument,
                  "cannot bundle " + child.string() + ": a symbolic link cannot be stored in object storage"};
        // Made directly: Storage has no symbolic links (restore_bundle recreates links from the
        // manifest; this copy is what verify compares against it).
        if (::symlink(f.target.c_str(), out.c_str()) != 0) return io_error("cannot create", out, errno);
        result.files.push_back(f);
      } else if (S_ISREG(st.st_mode)) {
        f.type = "file";
        std::uint64_t bytes = 0;
        auto hash = copy_file(storage, child, out, bytes, opts.interrupt);
        if (!hash) return hash.status();
        f.size = bytes;
        f.xxh3_128 = *hash;
        result.bytes += bytes;
        result.files.push_back(f);
      } else {
        result.notices.push_back("not bundled (not a file, directory or symbolic link): " + child.string());
      }
    }
    return {};
  }
};

}  // namespace

Result<BundleResult> copy_bundle(const fs::path& dump_root, const BundleOptions& opts) {
  BundleResult result;
  io::Storage& store = storage_or_local(opts.storage);
  result.storage = &store;
  if (opts.include_paths.empty()) return result;
  fs::path base = dump_root / std::string(formats::kBundleDir);
  std::error_code ec;
  // Exclusive: a database of that name already dumped here would get mixed with the files.
  auto there = store.exists(base);
  if (!there) return there.status();
  if (*there)
    return Status(ErrorCode::kInvalidArgument, "--include-path: the dump holds a database named " +
                                                   std::string(formats::kBundleDir) +
                                                   ", where bundled files go; leave it out (--nsExclude) or dump "
                                                   "it separately");
  if (Status s = store.make_directories(base); !s) return s;
  std::set<std::string> names;
  Copier copier{opts, result, store};
  for (std::size_t i = 0; i < opts.include_paths.size(); ++i) {
    fs::path src = fs::absolute(opts.include_paths[i], ec).lexically_normal();
    if (ec) return Status(ErrorCode::kIo, "--include-path " + opts.include_paths[i].string() + ": " + ec.message());
    struct stat st {};
    if (::stat(src.c_str(), &st) != 0) return io_error("--include-path: cannot stat", src, errno);
    if (!S_ISDIR(st.st_mode))
      return Status(ErrorCode::kInvalidArgument, "--include-path " + src.string() + ": not a directory");
    // The name it is restored under: the directory's own name, made unique.
    std::string name = src.has_filename() ? src.filename().string() : src.parent_path().filename().string();
    if (name.empty() || name == "." || name == "..") name = "root";
    std::string unique = name;
    for (int n = 2; names.count(unique) > 0; ++n) unique = name + "-" + std::to_string(n);
    names.insert(unique);
    BundledRoot root;
    root.dir = std::string(formats::kBundleDir) + "/" + std::to_string(i);
    root.name = unique;
    root.source = src.string();
    fs::path dst = dump_root / root.dir;
    if (Status s = store.make_directories(dst); !s) return s;
    result.roots.push_back(root);
    if (Status s = copier.copy_tree(src, "", dst, root.dir); !s) return s;
  }
  return result;
}

Status move_bundle(const fs::path& staging, const fs::path& out, const BundleResult& bundle) {
  if (bundle.roots.empty()) return {};
  fs::path from = staging / std::string(formats::kBundleDir);
  fs::path to = out / std::string(formats::kBundleDir);
  io::Storage& st = storage_or_local(bundle.storage);
  if (Status s = st.remove_all(to); !s) return s;
  if (Status s = st.rename(from, to); !s) return s;  // names both paths
  // The rename made durable: a local directory only (other storages publish on rename).
  if (&st == &io::local_storage()) return io::sync_directory(out);
  return {};
}

namespace {

// Fails if any existing component of `dst` from `target` on is a symbolic link (or not a
// directory where one is needed): writing through it could land outside `target`.
Status check_no_links(const fs::path& target, const fs::path& rel_parent) {
  fs::path p = target;
  for (const auto& part : rel_parent) {
    p /= part;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) return {};
      return io_error("cannot stat", p, errno);
    }
    if (S_ISLNK(st.st_mode))
      return {ErrorCode::kInvalidArgument,
              "refusing to write through the symbolic link " + p.string() + " (it could lead outside the target)"};
    if (!S_ISDIR(st.st_mode)) return {ErrorCode::kInvalidArgument, p.string() + " exists and is not a directory"};
  }
  return {};
}

// Where a manifest's bundled entry goes under `target`, checked to stay there whatever the
// manifest says (it is parsed with the same rules, but a dump is input we do not trust).
Result<fs::path> bundle_destination(const formats::Manifest& manifest, const fs::path& target,
                                    const formats::BundledFile& f) {
  for (const auto& r : manifest.bundled_roots) {
    if (!formats::is_safe_relative_path(r.name) || r.name.find('/') != std::string::npos)
      return Status(ErrorCode::kInvalidArgument, "manifest.json: bundled root name '" + r.name + "' leaves the target");
    if (f.path.size() > r.dir.size() + 1 && f.path.starts_with(r.dir) && f.path[r.dir.size()] == '/') {
      std::string rel = f.path.substr(r.dir.size() + 1);
      if (!formats::is_safe_relative_path(rel) || !formats::is_safe_relative_path(f.path))
        return Status(ErrorCode::kInvalidArgument, "manifest.json: bundled path '" + f.path + "' leaves the target");
      fs::path d = (target / r.name / rel).lexically_normal();
      fs::path t = target.lexically_normal();
      auto [tend, dit] = std::mismatch(t.begin(), t.end(), d.begin(), d.end());
      (void)dit;
      if (tend != t.end() && !tend->empty())
        return Status(ErrorCode::kInvalidArgument, "manifest.json: bundled path '" + f.path + "' leaves the target");
      return d;
    }
  }
  return Status(ErrorCode::kInvalidArgument, "manifest.json: bundled path '" + f.path + "' is under no bundled root");
}

// Puts one bundled file back: read from the dump (`st`), checked against the manifest's size
// and XXH3-128, written under a temporary name in the local target and published only then.
Status restore_file(io::Storage& st, const fs::path& src, const fs::path& dst, const formats::BundledFile& f,
                    const std::stop_token& interrupt, std::vector<std::uint8_t>& buf) {
  auto in = st.open(src);
  if (!in) return in.status();
  // The target is the local file system (see bundle.hpp).
  auto out = io::local_storage().create(dst);
  if (!out) return out.status();
  formats::Xxh3Hasher h;
  std::uint64_t n = 0;
  while (true) {
    if (interrupt.stop_requested()) return Status(ErrorCode::kCancelled, "interrupted");
    auto got = (*in)->read(buf.data(), buf.size());
    if (!got) return got.status();
    if (*got == 0) break;
    formats::ByteSpan chunk(buf.data(), *got);
    h.update(chunk);
    n += *got;
    if (n > f.size)
      return Status(ErrorCode::kInvalidArgument,
                    src.string() + ": larger than the manifest's " + std::to_string(f.size) + " bytes");
    if (Status s = (*out)->write(chunk); !s) return s;
  }
  if (n != f.size)
    return Status(ErrorCode::kInvalidArgument,
                  src.string() + ": " + std::to_string(n) + " bytes, the manifest says " + std::to_string(f.size));
  if (h.hex_digest() != f.xxh3_128)
    return Status(ErrorCode::kInvalidArgument,
                  src.string() + ": XXH3-128 " + h.hex_digest() + " does not match the manifest's " + f.xxh3_128);
  if (Status s = (*out)->commit(); !s) return s;
  if (::chmod(dst.c_str(), f.mode) != 0) return io_error("cannot set permissions of", dst, errno);
  return {};
}

// One bundled directory or symbolic link put back under the target.
Status restore_dir_or_link(const formats::BundledFile& f, const fs::path& dst, RestorePathsReport& rep,
                           std::vector<std::pair<fs::path, std::uint32_t>>& dir_modes) {
  if (f.type == "dir") {
    struct stat st {};
    if (::lstat(dst.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        return Status(ErrorCode::kInvalidArgument, dst.string() + " exists and is not a directory");
    } else if (::mkdir(dst.c_str(), 0700) != 0) {
      return io_error("cannot create", dst, errno);
    }
    dir_modes.emplace_back(dst, f.mode);
    ++rep.directories;
    return {};
  }
  std::error_code rec;
  fs::remove(dst, rec);  // a file or link of that name (never a directory with contents)
  if (::symlink(f.target.c_str(), dst.c_str()) != 0) return io_error("cannot create link", dst, errno);
  ++rep.symlinks;
  return {};
}

}  // namespace

Result<RestorePathsReport> restore_bundle(const fs::path& dump_root, const formats::Manifest& manifest,
                                          const fs::path& target, const std::stop_token& interrupt,
                                          io::Storage* storage) {
  io::Storage& st = storage_or_local(storage);
  RestorePathsReport rep;
  if (manifest.bundled_roots.empty())
    return Status(ErrorCode::kInvalidArgument,
                  dump_root.string() + ": the dump has no bundled files (dump with --include-path)");
  std::error_code ec;
  fs::create_directories(target, ec);
  if (ec) return Status(ErrorCode::kIo, "cannot create " + target.string() + ": " + ec.message());

  // Every path is checked before anything is written.
  std::vector<fs::path> dests;
  for (const auto& f : manifest.bundled) {
    auto d = bundle_destination(manifest, target, f);
    if (!d) return d.status();
    dests.push_back(*d);
  }
  for (const auto& r : manifest.bundled_roots) {
    if (Status s = check_no_links(target, r.name); !s) return s;
    fs::path d = target / r.name;
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return io_error("cannot create", d, errno);
  }

  auto rel_parent = [&](const fs::path& d) { return d.parent_path().lexically_relative(target.lexically_normal()); };
  // Directories and files first, symbolic links last (so nothing is written through one), and
  // directory permissions at the very end (a read-only directory still receives its files).
  std::vector<std::pair<fs::path, std::uint32_t>> dir_modes;
  std::vector<std::uint8_t> buf(1 << 20);
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < manifest.bundled.size(); ++i) {
      if (interrupt.stop_requested()) return Status(ErrorCode::kCancelled, "interrupted");
      const auto& f = manifest.bundled[i];
      const fs::path& dst = dests[i];
      if ((pass == 0) == (f.type == "symlink")) continue;
      if (Status s = check_no_links(target, rel_parent(dst)); !s) return s;
      if (f.type == "dir" || f.type == "symlink") {
        if (Status s = restore_dir_or_link(f, dst, rep, dir_modes); !s) return s;
        continue;
      }
      if (Status s = restore_file(st, dump_root / f.path, dst, f, interrupt, buf); !s) return s;
      ++rep.files;
      rep.bytes += f.size;
    }
  }
  // Deepest first, so a read-only parent is closed after its children.
  std::sort(dir_modes.begin(), dir_modes.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [dir, mode] : dir_modes)
    if (::chmod(dir.c_str(), mode) != 0) return io_error("cannot set permissions of", dir, errno);
  return rep;
}

}  // namespace bsonpipe::pipeline
