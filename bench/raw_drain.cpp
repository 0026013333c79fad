// raw_drain: the reference limits for the end-to-end benchmark. `find` drains collections with a
// bare find/getMore loop over our io client and discards the bytes (what a dump could reach if
// writing cost nothing); `insert` replays .bson files as unordered inserts of pre-split batches
// (what a restore could reach); `drop` drops a database between runs. Prints one JSON line: {"mode", "bytes",
// "documents", "seconds"}.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "formats/bson.hpp"
#include "io/commands.hpp"
#include "io/connection.hpp"
#include "io/uri.hpp"

namespace {

using bsonpipe::formats::Builder;
using bsonpipe::formats::Bytes;
using bsonpipe::formats::ByteSpan;
using bsonpipe::formats::DocView;
namespace io = bsonpipe::io;

struct Args {
  std::string mode;
  std::string uri = "mongodb://127.0.0.1:27017/";
  std::vector<std::string> namespaces;  // find: db.coll (empty = every collection of every user db)
  std::vector<std::string> files;       // insert: .bson files, inserted into --into-db.<file stem>
  std::string into_db = "raw_insert";   // insert: the target database; drop: the database dropped
  std::string db;                       // find: only this database (empty = every user database)
  int readers = 1;                      // find: cursors per collection (by _id range); insert: workers
  int jobs = 1;                         // find: collections drained at once
  // insert: payload bytes per insert (restore's default batch size; capped by the server's limit).
  std::size_t batch_bytes = 8u << 20;
};

// The work of one thread: a cursor over a namespace, optionally bounded to an _id range.
struct DrainJob {
  std::string db;
  std::string collection;
  Bytes min;  // {_id: v} or empty
  Bytes max;
};

struct Totals {
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> documents{0};
  std::mutex mu;
  std::string error;  // first error wins
  void fail(const std::string& e) {
    std::lock_guard lock(mu);
    if (error.empty()) error = e;
  }
};

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "raw_drain: " << msg << "\n";
  std::exit(1);
}

void usage() {
  std::cerr << "usage: raw_drain find --uri U [--ns db.coll]... [--readers N] [-j N]\n"
               "       raw_drain insert --uri U --into-db DB [--readers N] [--batch-bytes B] FILE.bson...\n"
               "       raw_drain drop --uri U --into-db DB\n";
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  if (argc < 2) usage();
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string_view s = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (s == "--uri") {
      a.uri = value();
    } else if (s == "--ns") {
      a.namespaces.push_back(value());
    } else if (s == "--readers") {
      a.readers = std::max(1, std::atoi(value().c_str()));
    } else if (s == "-j") {
      a.jobs = std::max(1, std::atoi(value().c_str()));
    } else if (s == "--batch-bytes") {
      a.batch_bytes = static_cast<std::size_t>(std::max(1LL, std::atoll(value().c_str())));
    } else if (s == "--db") {
      a.db = value();
    } else if (s == "--into-db") {
      a.into_db = value();
    } else if (!s.empty() && s[0] == '-') {
      usage();
    } else {
      a.files.emplace_back(s);
    }
  }
  if (a.mode != "find" && a.mode != "insert" && a.mode != "drop") usage();
  return a;
}

std::unique_ptr<io::Connection> connect(const io::Uri& uri) {
  auto c = io::connect_selected(uri, io::ReadPreferenceMode::kPrimary);
  if (!c) die("connect: " + c.error().to_string());
  return std::move(*c);
}

// _id boundaries splitting a collection into about `parts` ranges, from a $sample (as the dump
// planner does, so both read the same ranges).
std::vector<DrainJob> split(io::Connection& conn, const std::string& db, const std::string& coll, int parts) {
  std::vector<DrainJob> out;
  if (parts <= 1) {
    out.push_back({db, coll, {}, {}});
    return out;
  }
  Builder p;
  p.open_array("pipeline");
  p.open_document("0").open_document("$sample").append_int32("size", parts * 32).close().close();
  p.open_document("1").open_document("$project").append_int32("_id", 1).close().close();
  p.close();
  Bytes pipeline = p.finish();
  auto cur = io::aggregate(conn, db, coll, DocView(pipeline).find("pipeline").as_document());
  if (!cur) die("$sample: " + cur.error().to_string());
  std::vector<Bytes> ids;
  while (true) {
    for (ByteSpan d : cur->batch()) {
      auto id = DocView(d).find("_id");
      if (id.valid()) ids.push_back(Builder().append_element("_id", id).finish());
    }
    auto more = cur->next_batch();
    if (!more) die("$sample getMore: " + more.error().to_string());
    if (!*more) break;
  }
  auto first = [](const Bytes& d) { return *DocView(d).begin(); };
  std::sort(ids.begin(), ids.end(),
            [&](const Bytes& a, const Bytes& b) { return bsonpipe::formats::compare_values(first(a), first(b)) < 0; });
  Bytes lo;
  for (int i = 1; i < parts && !ids.empty(); ++i) {
    const Bytes& b = ids[ids.size() * static_cast<std::size_t>(i) / static_cast<std::size_t>(parts)];
    if (!lo.empty() && bsonpipe::formats::compare_values(first(lo), first(b)) >= 0) continue;
    out.push_back({db, coll, lo, b});
    lo = b;
  }
  out.push_back({db, coll, lo, {}});
  return out;
}

void drain(const io::Uri& uri, const DrainJob& job, Totals& t) {
  auto conn = connect(uri);
  io::FindOptions fo;
  Bytes hint = Builder().append_int32("_id", 1).finish();
  if (!job.min.empty() || !job.max.empty()) {
    fo.hint = DocView(hint);
    if (!job.min.empty()) fo.min = DocView(job.min);
    if (!job.max.empty()) fo.max = DocView(job.max);
  }
  fo.no_cursor_timeout = true;
  auto cur = io::find(*conn, job.db, job.collection, fo);
  if (!cur) return t.fail("find: " + cur.error().to_string());
  while (true) {
    t.bytes.fetch_add(cur->batch_bytes(), std::memory_order_relaxed);
    t.documents.fetch_add(cur->batch().size(), std::memory_order_relaxed);
    if (cur->exhausted()) return;
    auto more = cur->next_batch();
    if (!more) return t.fail("getMore: " + more.error().to_string());
  }
}

// Runs `jobs` on `threads` threads, each taking the next job.
template <class Job, class Fn>
void run_all(const std::vector<Job>& jobs, int threads, Fn fn) {
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  int n = std::max(1, std::min<int>(threads, static_cast<int>(jobs.size())));
  for (int i = 0; i < n; ++i)
    pool.emplace_back([&] {
      for (std::size_t k = next++; k < jobs.size(); k = next++) fn(jobs[k]);
    });
  for (auto& th : pool) th.join();
}

std::vector<DrainJob> plan_find(const Args& a, io::Connection& conn) {
  std::vector<std::pair<std::string, std::string>> nss;
  for (const auto& ns : a.namespaces) {
    auto dot = ns.find('.');
    if (dot == std::string::npos) die("--ns wants db.collection: " + ns);
    nss.emplace_back(ns.substr(0, dot), ns.substr(dot + 1));
  }
  if (nss.empty()) {
    auto dbs = io::list_databases(conn, true);
    if (!dbs) die("listDatabases: " + dbs.error().to_string());
    for (const auto& d : *dbs) {
      if (d.name == "admin" || d.name == "local" || d.name == "config") continue;
      if (!a.db.empty() && d.name != a.db) continue;
      auto colls = io::list_collections(conn, d.name);
      if (!colls) die("listCollections: " + colls.error().to_string());
      for (const auto& c : *colls)
        if (c.type == "collection" && c.name.rfind("system.", 0) != 0) nss.emplace_back(d.name, c.name);
    }
  }
  std::vector<DrainJob> jobs;
  for (const auto& [db, coll] : nss) {
    // Split only large collections, as the dump does (its default threshold is 64 MiB).
    auto st = io::coll_stats(conn, db, coll);
    int parts = st && st->size >= (64ll << 20) ? a.readers : 1;
    for (auto& j : split(conn, db, coll, parts)) jobs.push_back(std::move(j));
  }
  return jobs;
}

struct InsertJob {
  std::string collection;
  ByteSpan documents;
};

std::string stem(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = name.rfind(".bson");
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  auto uri = io::parse_uri(a.uri);
  if (!uri) die("bad --uri: " + uri.status().to_string());
  auto control = connect(*uri);
  Totals t;
  double seconds = 0;
  if (a.mode == "drop") {
    if (auto e = io::drop_database(*control, a.into_db); !e) die("dropDatabase: " + e.to_string());
  } else if (a.mode == "find") {
    auto jobs = plan_find(a, *control);
    auto t0 = std::chrono::steady_clock::now();
    // -j cursors at once in all, as the dump's -j; --readers ranges per large collection.
    run_all(jobs, a.jobs, [&](const DrainJob& j) { drain(*uri, j, t); });
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } else {
    // Everything is read and split into batches before the clock starts.
    std::vector<Bytes> contents;
    std::vector<InsertJob> jobs;
    std::size_t max_docs = control->server().max_write_batch_size;
    std::size_t max_bytes = std::min(a.batch_bytes, io::insert_payload_limit(control->server()));
    for (const auto& f : a.files) {
      std::ifstream in(f, std::ios::binary);
      if (!in) die("cannot read " + f);
      contents.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      ByteSpan rest(contents.back());
      std::string coll = stem(f);
      if (auto e = io::drop_collection(*control, a.into_db, coll); !e) die("drop: " + e.to_string());
      while (!rest.empty()) {
        std::size_t n = 0;
        auto batch = io::next_insert_batch(rest, max_docs, max_bytes, &n);
        if (!batch) die(f + ": " + batch.status().to_string());
        jobs.push_back({coll, *batch});
        rest = rest.subspan(batch->size());
      }
    }
    std::vector<std::unique_ptr<io::Connection>> conns;
    for (int i = 0; i < a.readers; ++i) conns.push_back(connect(*uri));
    std::atomic<int> slot{0};
    auto t0 = std::chrono::steady_clock::now();
    thread_local io::Connection* mine = nullptr;
    run_all(jobs, a.readers, [&](const InsertJob& j) {
      if (mine == nullptr) mine = conns[static_cast<std::size_t>(slot++)].get();
      io::InsertOptions o;
      o.ordered = false;
      auto r = io::insert(*mine, a.into_db, j.collection, j.documents, o);
      if (!r) return t.fail("insert: " + r.error().to_string());
      t.bytes.fetch_add(j.documents.size(), std::memory_order_relaxed);
      t.documents.fetch_add(static_cast<std::uint64_t>(r->n), std::memory_order_relaxed);
    });
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  if (!t.error.empty()) die(t.error);
  std::printf("{\"mode\": \"%s\", \"bytes\": %llu, \"documents\": %llu, \"seconds\": %.6f}\n", a.mode.c_str(),
              static_cast<unsigned long long>(t.bytes.load()), static_cast<unsigned long long>(t.documents.load()),
              seconds);
  return 0;
}
