// bsonpipe verify, archives and --against: reads a mongodump archive through the storage seam
// (every document validated, each namespace checked against the archive's CRC-64), and compares
// each dumped namespace's count and content digest with a live server.
#include <map>
#include <set>

#include "formats/archive.hpp"
#include "formats/doc_sequence.hpp"
#include "io/commands.hpp"
#include "io/uri.hpp"
#include "pipeline/ops/verify_scan.hpp"
#include "pipeline/sources/restore_source.hpp"

namespace bsonpipe::pipeline::verify_detail {

using formats::ByteSpan;
using formats::DocView;

void verify_archive(Context& ctx) {
  auto& r = ctx.report;
  r.format = "archive";
  const std::string name = ctx.opts.input.string();
  if (name != "-" && !is_regular_file(ctx.storage, ctx.opts.input)) {
    ctx.error = {ErrorCode::kIo, name + ": not a file"};
    return;
  }
  auto in = ArchiveInput::open(name, false, ctx.storage);
  if (!in) {
    ctx.error = {in.status().code(), name + ": " + in.status().to_string()};
    return;
  }
  r.notices.push_back(
      "archive: no manifest, so no file checksum or dumped document counts to compare; each namespace's "
      "documents are checked against the archive's own CRC-64");
  formats::archive::ReaderOptions ro;
  ro.validate_documents = true;
  ro.max_document_size = kMaxDocumentSize;
  formats::archive::Reader reader((*in)->source(), ro);
  std::string decompressed = (*in)->codec() == io::Codec::kNone ? "" : " (offset in the decompressed stream)";
  auto prelude = reader.read_prelude();
  if (!prelude) {
    ctx.problems.add(name, "", prelude.status().message() + decompressed, prelude.status().offset());
    return;
  }
  for (const auto& e : (*prelude)->collections) {
    if (e.metadata.empty()) continue;
    auto m = check_metadata_text(ctx, name, e.ns(), e.metadata);
    (void)m;
  }
  std::map<std::string, formats::MultisetDigest> digests;
  formats::ValidateOptions vo;
  vo.check_utf8 = ctx.opts.check_utf8;
  while (true) {
    if (ctx.interrupted()) return;
    auto ev = reader.next();
    if (!ev) {
      ctx.problems.add(name, "", ev.status().message() + decompressed, ev.status().offset());
      break;
    }
    if (ev->kind == formats::archive::EventKind::kEnd) break;
    std::string ns = std::string(ev->db) + "." + std::string(ev->collection);
    if (ev->kind == formats::archive::EventKind::kDocuments) {
      auto& d = digests[ns];
      formats::DocSequence docs(ev->documents);  // whole documents: the reader walked them
      for (DocView doc : docs) {
        if (ctx.opts.check_utf8)
          if (Status s =
                  formats::validate(doc.bytes(), vo, ev->offset + static_cast<std::int64_t>(docs.offset_of(doc)));
              !s)
            ctx.problems.add(name, ns, "invalid BSON: " + s.message() + decompressed, s.offset());
        d.add(doc.bytes());
      }
      r.documents += ev->document_count;
    } else if (ev->kind == formats::archive::EventKind::kNamespaceEnd) {
      if (ev->entry && ev->entry->is_oplog()) continue;
      r.namespaces.push_back({ns, "", ev->total_documents, digests[ns].hex()});
      r.raw_bytes += ev->total_bytes;
    }
  }
  r.files_checked = 1;
  // As std::filesystem::file_size: all ones when there is no size (standard input).
  auto size = ctx.storage.size(ctx.opts.input);
  r.stored_bytes = size ? *size : static_cast<std::uint64_t>(-1);
}

// ---- --against --------------------------------------------------------------------------------

void compare_with_server(Context& ctx) {
  auto& r = ctx.report;
  auto uri = io::parse_uri(ctx.opts.against);
  if (!uri) {
    ctx.error = {ErrorCode::kInvalidArgument, "--against: " + uri.status().to_string()};
    return;
  }
  r.against = uri->redacted();
  auto conn = io::connect_selected(*uri, io::ReadPreferenceMode::kPrimary);
  if (!conn) {
    ctx.error = {ErrorCode::kNetwork, "cannot connect to " + r.against + ": " + conn.error().to_string()};
    return;
  }
  r.against_ran = true;
  std::set<std::string> dbs, dumped;
  for (auto& n : r.namespaces) {
    if (ctx.interrupted()) return;
    auto dot = n.ns.find('.');
    if (dot == std::string::npos || n.digest.empty()) continue;  // no name or unreadable data: nothing to compare
    std::string db = n.ns.substr(0, dot), coll = n.ns.substr(dot + 1);
    if (coll.starts_with("$")) {  // --dumpDbUsersAndRoles files ($admin.system.users): not a collection of db
      r.notices.push_back(n.ns + " is not a collection of " + db + " (users/roles): not compared");
      continue;
    }
    dbs.insert(db);
    dumped.insert(n.ns);
    formats::MultisetDigest d;
    auto cur = io::find(**conn, db, coll, {});
    if (!cur) {
      ctx.problems.add(n.file, n.ns, "cannot read from " + r.against + ": " + cur.error().to_string());
      continue;
    }
    bool read_ok = true;
    while (true) {
      for (ByteSpan doc : cur->batch()) d.add(doc);
      if (cur->exhausted()) break;
      auto more = cur->next_batch();
      if (!more) {
        ctx.problems.add(n.file, n.ns, "getMore failed on " + r.against + ": " + more.error().to_string());
        read_ok = false;
        break;
      }
      if (!*more) break;
    }
    if (!read_ok) continue;
    n.compared = true;
    n.server_documents = d.count();
    n.server_digest = d.hex();
    n.matches = n.server_documents == n.documents && n.server_digest == n.digest;
    if (n.server_documents != n.documents)
      ctx.problems.add(n.file, n.ns,
                       "differs from the server: the dump has " + std::to_string(n.documents) +
                           " documents, the server " + std::to_string(n.server_documents));
    else if (!n.matches)
      ctx.problems.add(n.file, n.ns,
                       "differs from the server: same count (" + std::to_string(n.documents) +
                           ") but different content (digest " + n.digest + " vs " + n.server_digest + ")");
  }
  // Collections the server has in the dumped databases but the dump lacks: the dump may have been
  // filtered, so they are noted, not counted as problems.
  for (const auto& db : dbs) {
    auto colls = io::list_collections(**conn, db);
    if (!colls) continue;
    for (const auto& c : *colls) {
      if (c.type == "view" || c.name.starts_with("system.")) continue;
      if (!dumped.count(db + "." + c.name))
        r.notices.push_back(db + "." + c.name + " is on the server but not in the dump (not compared)");
    }
  }
}

}  // namespace bsonpipe::pipeline::verify_detail
