// Stream input of a restore run (Restorer, pipeline/ops/restore_run.hpp): an archive, or bsonpipe
// copy's hand-over, as a NamespaceStream. Its one reader (the run's thread) splits the events into
// a FedSource per namespace and spools the oplog; each namespace is loaded from its source as any
// other (Restorer::load_namespace, restore_load.cpp), on a thread of its own started at its first
// event, and its index builds run at most -j at a time.
#include <atomic>
#include <map>
#include <optional>

#include "pipeline/ops/restore_run.hpp"

namespace bsonpipe::pipeline::restore_detail {

namespace {

// Batches a namespace's source holds beyond the one its reader holds back (see hand_on).
constexpr std::size_t kFedBatches = 1;

// One pass over a stream's events. Threading: run() on the reader's thread, which alone touches
// the members; each namespace's loader runs on its own thread and shares only its FedSource.
class StreamSplitter {
 public:
  StreamSplitter(Restorer& r, NamespaceStream& reader)
      : r_(r),
        reader_(reader),
        finish_slots_(static_cast<std::ptrdiff_t>(std::max(1, r.o_.num_parallel_collections))),
        ns_(r.plan_.targets.size()),
        lim_(r.limits()) {
    for (std::size_t i = 0; i < ns_.size(); ++i)
      if (r.plan_.targets[i].kind != TargetKind::kView && !r.done_before(r.plan_.targets[i]))
        by_source_[r.plan_.targets[i].source_ns()] = i;
  }

  void run();

 private:
  struct Namespace {
    std::unique_ptr<FedSource> source;
    std::unique_ptr<WorkerGroup> loader;
    // The newest batch, held back until the next one or the namespace's end: the CRC at the end of
    // an archive's namespace must check out before the last of its documents reach the server, so
    // a namespace whose documents all sit in one batch is never written from an archive that fails
    // its CRC.
    std::optional<DocumentBatch> held;
    std::atomic<bool> loaded{false};  // its loader returned (set on the loader's thread)
    bool ended = false;
    bool refused = false;  // its loader takes nothing more (its collection could not be created)
  };

  // Namespace k's source, its loader started at the first call; null once refused.
  FedSource* source_for(std::size_t k);
  // Joins the threads of ended namespaces' loaders that returned: a stream of many namespaces
  // keeps threads only for those still loading.
  void reap_loaders();
  std::optional<std::size_t> lookup(const StreamEvent& ev) const;
  // Each returns false when reading must stop.
  bool push(std::size_t k, DocumentBatch& b);
  bool hand_on(std::size_t k, DocumentBatch& b);
  bool read_events();
  bool on_oplog(const StreamEvent& ev);
  bool on_documents(StreamEvent& ev, std::size_t k);
  bool cut_batches(const StreamEvent& ev, std::size_t k);
  bool end_namespace(std::size_t k);

  Restorer& r_;
  NamespaceStream& reader_;
  std::counting_semaphore<> finish_slots_;  // before ns_: the loaders use it until they are joined
  std::vector<Namespace> ns_;
  std::map<std::string, std::size_t, std::less<>> by_source_;
  std::vector<std::size_t> ended_loading_;  // ended namespaces whose loaders were not joined yet
  BatchLimits lim_;
  std::int64_t last_ = 0;
};

FedSource* StreamSplitter::source_for(std::size_t k) {
  Namespace& n = ns_[k];
  if (n.refused) return nullptr;
  if (!n.source) {
    // Namespaces interleave in a stream: every namespace with an open segment needs its loader
    // running, whatever -j says (their count is bounded by the stream's own interleaving).
    reap_loaders();
    n.source = std::make_unique<FedSource>(kFedBatches, r_.errors_.token());
    n.loader = r_.exec_.start(1, "restore", [this, k, src = n.source.get(), loaded = &n.loaded](std::size_t) {
      r_.load_namespace(k, *src, &finish_slots_);
      loaded->store(true, std::memory_order_release);
      return Status{};
    });
  }
  return n.source.get();
}

void StreamSplitter::reap_loaders() {
  std::erase_if(ended_loading_, [this](std::size_t k) {
    Namespace& n = ns_[k];
    if (!n.loaded.load(std::memory_order_acquire)) return false;
    n.loader->wait();
    n.loader.reset();
    return true;
  });
}

std::optional<std::size_t> StreamSplitter::lookup(const StreamEvent& ev) const {
  if (!ev.entry || ev.entry->is_oplog()) return std::nullopt;
  auto it = by_source_.find(ev.entry->ns());
  if (it == by_source_.end()) return std::nullopt;
  return it->second;
}

bool StreamSplitter::push(std::size_t k, DocumentBatch& b) {
  FedSource* src = source_for(k);
  if (src && src->push(b)) return true;
  if (r_.errors_.cancelled()) return false;
  ns_[k].refused = true;  // the namespace failed on its own (recorded): the others go on
  ns_[k].held.reset();
  return true;
}

bool StreamSplitter::hand_on(std::size_t k, DocumentBatch& b) {
  Namespace& n = ns_[k];
  if (n.held && !push(k, *n.held)) return false;
  n.held = std::move(b);
  return true;
}

bool StreamSplitter::on_oplog(const StreamEvent& ev) {
  OplogSpool& spool = *r_.oplog_spool_;
  Status s = spool.out ? spool.out->write(ev.documents) : Status{ErrorCode::kIo, "closed"};
  spool.size += static_cast<std::int64_t>(ev.documents.size());
  if (!s) {
    r_.fail({ErrorCode::kIo, "writing the archive's oplog to " + spool.path.string() + ": " + s.message()});
    return false;
  }
  return true;
}

bool StreamSplitter::cut_batches(const StreamEvent& ev, std::size_t k) {
  // Batches of at most the insert limits, cut from the segment's documents alone: the same
  // archive and options always give the same batches (the journal names them by offset).
  formats::ByteSpan rest = ev.documents;
  std::int64_t at = ev.offset;
  while (!rest.empty()) {
    std::size_t count = 0;
    auto part = io::next_insert_batch(rest, lim_.max_documents, lim_.max_bytes, &count);
    if (!part) {
      r_.fail(
          {part.status().code(), "archive: " + r_.plan_.targets[k].source_ns() + ": " + part.status().message(), at});
      return false;
    }
    DocumentBatch b;
    b.data.assign(part->begin(), part->end());
    b.count = count;
    b.offset = at;
    at += static_cast<std::int64_t>(part->size());
    rest = rest.subspan(part->size());
    if (!hand_on(k, b)) return false;
  }
  return true;
}

bool StreamSplitter::on_documents(StreamEvent& ev, std::size_t k) {
  if (r_.o_.objcheck)
    if (auto s = check_documents(ev.documents, ev.offset, lim_); !s) {
      r_.fail({s.code(), "archive: " + r_.plan_.targets[k].source_ns() + ": " + s.message(), s.offset()});
      return false;
    }
  FedSource* src = source_for(k);
  if (!src) return true;
  src->add_bytes(static_cast<std::uint64_t>(reader_.offset() - last_));
  last_ = reader_.offset();
  // Documents that fit one insert are handed on as they are: the batch cut_batches would cut.
  if (ev.count > 0 && ev.count <= lim_.max_documents && ev.documents.size() <= lim_.max_bytes) {
    DocumentBatch b;
    b.data = std::move(ev.documents);
    b.count = ev.count;
    b.offset = ev.offset;
    return hand_on(k, b);
  }
  return cut_batches(ev, k);
}

bool StreamSplitter::end_namespace(std::size_t k) {
  Namespace& n = ns_[k];
  if (n.ended) return true;
  n.ended = true;
  // A namespace without documents still gets its loader: its collection is created and indexed.
  FedSource* src = source_for(k);
  if (!src) return true;
  if (n.held && !push(k, *n.held)) return false;
  n.held.reset();
  src->end();
  ended_loading_.push_back(k);
  return true;
}

bool StreamSplitter::read_events() {
  last_ = reader_.offset();
  StreamEvent ev;
  while (!r_.errors_.cancelled()) {
    if (Status s = reader_.next(ev); !s) {
      r_.fail(r_.in_archive(s));
      return false;
    }
    if (ev.kind == StreamEventKind::kEnd) return true;
    if (r_.oplog_spool_ && ev.entry && ev.entry->is_oplog() && ev.kind == StreamEventKind::kDocuments) {
      if (!on_oplog(ev)) return false;
      continue;
    }
    if (r_.users_roles_) {  // --- users, roles, auth schema: kept for the end (pipeline/ops/users_roles.hpp) ---
      auto took = r_.users_roles_->capture(ev);
      if (!took) {
        r_.fail(took.status());
        return false;
      }
      if (*took) continue;
    }
    auto k = lookup(ev);
    if (!k) continue;
    if (ev.kind == StreamEventKind::kDocuments) {
      if (!on_documents(ev, *k)) return false;
    } else if (ev.kind == StreamEventKind::kNamespaceEnd) {
      if (!end_namespace(*k)) return false;
    }
  }
  return false;
}

void StreamSplitter::run() {
  try {
    // Selected collections the stream never had data for still get created (and indexed).
    if (read_events() && !r_.errors_.cancelled())
      for (auto& [ns, k] : by_source_)
        if (!end_namespace(k)) break;
  } catch (const std::exception& e) {
    r_.fail({ErrorCode::kInternal, std::string("restore: ") + e.what()});
  }
  // A stop (the first error or the interrupt) has woken every loader through its source.
  for (auto& n : ns_)
    if (n.loader) n.loader->wait();
}

}  // namespace

void Restorer::run_stream(NamespaceStream& reader) {
  StreamSplitter(*this, reader).run();
}

}  // namespace bsonpipe::pipeline::restore_detail
