// The dump's range readers: workers on the run's executor take _id ranges one after another, read
// each with a cursor that resumes after retryable errors, and hand the documents to the output
// the dump's sink opened for the range (pipeline/sinks/dump_sink.hpp), or, for a split
// collection whose file is one ordered stream, to the collection's RangeJoin
// (pipeline/core/range_join.hpp).
#include <algorithm>
#include <functional>
#include <span>
#include <thread>

#include "formats/hash.hpp"
#include "io/commands.hpp"
#include "io/file.hpp"
#include "pipeline/ops/dump_internal.hpp"
#include "pipeline/sinks/stream_writer.hpp"

namespace bsonpipe::pipeline::dump_detail {

using formats::Builder;
using formats::DocView;

// One range of one collection, read by one worker: its cursor (resumed from the last _id taken
// after a retryable error), where its bytes go, and what it counted.
// Threading: used by one worker thread; the collection's counters are updated under its mutex.
class RangeReader {
 public:
  RangeReader(Dumper& d, std::unique_ptr<io::Connection>& conn, const RangeJob& job)
      : d_(d),
        conn_(conn),
        c_(*job.coll),
        index_(job.index),
        range_(c_.ranges[job.index]),
        multi_(c_.ranges.size() > 1),
        resumable_(has_id_index(c_) && !is_capped(c_) && !d.opts_.table_scan),
        retries_left_(d.opts_.retries),
        backoff_(d.opts_.retry_backoff_ms) {}

  // Reads the whole range; the last range of a collection also finishes it.
  Status run() {
    if (Status s = open_output(); !s) return s;
    if (Status s = read_with_retries(); !s) return s;
    return finish();
  }

 private:
  Status open_output();
  Status take(std::span<const ByteSpan> batch, io::Cursor& cur);
  io::FindOptions find_options(const Bytes& hint) const;
  io::Error attempt();
  io::Error skip_taken(std::span<const ByteSpan>& batch);
  io::Error remember_last_id(std::span<const ByteSpan> batch);
  Status read_with_retries();
  Status finish();

  Dumper& d_;
  std::unique_ptr<io::Connection>& conn_;
  CollectionJob& c_;
  std::size_t index_;
  const IdRange& range_;
  const bool multi_;
  const bool resumable_;

  // Where this range's documents go: its own stream as the sink opened it, or the collection's
  // join when the collection is split and its file is one ordered stream.
  std::unique_ptr<StreamWriter> stream_;
  RangeJoin* join_ = nullptr;

  std::uint64_t docs_ = 0;
  std::uint64_t raw_ = 0;

  Bytes last_id_;  // {_id: v} of the last document taken
  int retries_left_;
  RetryBackoff backoff_;
  std::string failed_op_;  // what failed in the last attempt
  Status taken_;           // a local failure (write error, cancel): never retried
};

Status RangeReader::open_output() {
  if (multi_ && d_.sink_->joins_ranges()) {
    auto j = d_.range_join(c_);
    if (!j) return j.status();
    join_ = *j;
    return {};
  }
  StreamOutput out;
  if (Status s = d_.sink_->open_range(c_, index_, multi_, out); !s) return s;
  stream_ =
      std::make_unique<StreamWriter>(std::move(out), &d_.pool_, d_.stream_options(), *d_.sink_, c_.db, c_.data_name);
  return {};
}

// Counts a batch, waits for the rate limit, and writes it (or the join holds it: then the reply
// buffer leaves the cursor, and the connection receives into a buffer the join has written).
Status RangeReader::take(std::span<const ByteSpan> batch, io::Cursor& cur) {
  std::uint64_t bytes = 0;
  for (ByteSpan d : batch) bytes += d.size();
  docs_ += batch.size();
  raw_ += bytes;
  c_.progress->documents.fetch_add(batch.size(), std::memory_order_relaxed);
  c_.progress->bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (d_.rate_)
    if (Status s = d_.rate_->acquire(bytes, &d_.errors_); !s) return s;
  if (!join_) return stream_->write(batch);
  Status s = join_->add(index_, batch, [&cur] { return cur.take_reply_bytes(); });
  if (Bytes spare = join_->spare(); spare.capacity() > 0) conn_->recycle(std::move(spare));
  return s;
}

io::FindOptions RangeReader::find_options(const Bytes& hint) const {
  const DumpOptions& o = d_.opts_;
  io::FindOptions fo;
  if (!o.query.empty()) fo.filter = DocView(o.query);
  if (resumable_ || !range_.min.empty() || !range_.max.empty()) fo.hint = DocView(hint);
  if (!range_.min.empty()) fo.min = DocView(range_.min);
  if (!last_id_.empty()) fo.min = DocView(last_id_);
  if (!range_.max.empty()) fo.max = DocView(range_.max);
  // About 1 MiB per reply unless the user chose: a reply then stays in cache while it is
  // written and hashed (the server's default is 16 MiB).
  fo.batch_size = o.batch_size;
  if (fo.batch_size == 0 && c_.count > 0 && c_.size > 0)
    fo.batch_size = static_cast<std::int32_t>(
        std::clamp<std::int64_t>((1 << 20) / std::max<std::int64_t>(1, c_.size / c_.count), 1, 100000));
  fo.no_cursor_timeout = true;
  if (d_.read_mode_ != io::ReadPreferenceMode::kPrimary) fo.read_preference = d_.read_mode_;
  return fo;
}

// A resumed read starts at the last _id taken (min is inclusive): drops it from the first batch.
io::Error RangeReader::skip_taken(std::span<const ByteSpan>& batch) {
  auto id = formats::find_checked(batch.front(), "_id");
  if (!id) return io::Error::network("malformed document in the reply: " + id.status().to_string());
  if (id->valid() && formats::compare_values(*id, DocView(last_id_).find("_id")) == 0) batch = batch.subspan(1);
  return {};
}

io::Error RangeReader::remember_last_id(std::span<const ByteSpan> batch) {
  auto id = formats::find_checked(batch.back(), "_id");
  if (!id) return io::Error::network("malformed document in the reply: " + id.status().to_string());
  if (id->valid()) last_id_ = Builder().append_element("_id", *id).finish();
  return {};
}

// Read in _id order (as mongodump hints {_id: 1}) when the collection has that index and is not
// capped (capped collections keep their natural order): then a read that fails with a retryable
// error (network, primary stepped down) continues from the last _id taken, on a new connection.
// One attempt: opens a cursor from where the last one stopped and reads to the end of the range.
// Returns ok when the range is done (or taken_ holds a local failure); otherwise the error, with
// what failed in failed_op_.
io::Error RangeReader::attempt() {
  Bytes hint = Builder().append_int32("_id", 1).finish();
  io::FindOptions fo = find_options(hint);
  failed_op_ = "find";
  auto cur = io::find(*conn_, c_.db, c_.data_name, fo);
  if (!cur) return cur.error();
  failed_op_ = "getMore";
  bool first = !last_id_.empty();
  while (true) {
    if (d_.errors_.cancelled()) {
      taken_ = d_.errors_.status();
      return {};
    }
    std::span<const ByteSpan> batch = cur->batch();
    if (first && !batch.empty()) {
      first = false;
      if (io::Error e = skip_taken(batch); !e) return e;
    }
    // Ask for the next batch before working on this one, so the server prepares it meanwhile.
    if (!cur->exhausted())
      if (io::Error e = cur->prefetch(); !e) return e;
    if (!batch.empty()) {
      // Before take: a batch the join holds may be written and its buffer reused by then.
      if (resumable_)
        if (io::Error e = remember_last_id(batch); !e) return e;
      if (Status s = take(batch, *cur); !s) {
        taken_ = s;
        return {};
      }
    }
    if (cur->exhausted()) return {};
    auto more = cur->next_batch();
    if (!more) return more.error();
  }
}

Status RangeReader::read_with_retries() {
  std::uint64_t docs_at_failure = 0;
  while (true) {
    io::Error failure = attempt();
    if (!taken_) return taken_;
    if (failure) return {};
    // The budget bounds failures in a row: an attempt that made progress earns it back.
    if (docs_ > docs_at_failure) {
      retries_left_ = d_.opts_.retries;
      backoff_.reset();
    }
    docs_at_failure = docs_;
    const std::string what = failed_op_ + " on " + c_.db + "." + c_.data_name + " failed: " + failure.to_string();
    if (!failure.is_retryable() || (!resumable_ && docs_ > 0) || d_.errors_.cancelled())
      return {ErrorCode::kServer, what};
    if (retries_left_ <= 0)
      return {ErrorCode::kServer,
              what + " (gave up after " + std::to_string(d_.opts_.retries) + " retries without progress)"};
    --retries_left_;
    d_.retries_.fetch_add(1, std::memory_order_relaxed);
    d_.progress_.info("retrying " + c_.db + "." + c_.data_name + " after: " + failure.to_string());
    backoff_.wait(d_.errors_);
    if (failure.is_network() || failure.is_not_writable_primary() || conn_->broken()) {
      auto fresh = d_.connect();
      if (!fresh) {
        if (retries_left_ <= 0)
          return {ErrorCode::kNetwork, what + "; reconnecting failed: " + fresh.error().to_string()};
        continue;  // counts as a failed attempt; the next one backs off further
      }
      conn_ = std::move(*fresh);
    }
  }
}

// Writes what is left, commits the range's file (or tells the join the range ended) and adds to
// the collection's counters.
Status RangeReader::finish() {
  if (join_) {
    if (Status s = join_->finish_range(index_); !s) return s;
  } else if (Status s = stream_->finish(/*empty_member=*/index_ == 0, /*durable=*/true); !s) {
    return s;
  }
  bool last;
  {
    std::lock_guard lock(c_.mu);
    c_.documents += docs_;
    c_.raw_bytes += raw_;
    if (stream_) {
      c_.stored_bytes += stream_->stored_bytes();
      if (std::string h = stream_->hash_hex(); !h.empty()) c_.data_hash = h;
    }
    last = --c_.ranges_left == 0;
  }
  return last ? d_.finish_collection(c_) : Status{};
}

// The readers are a work list on the run's executor: each takes the next range with the
// connection it kept from its last one. A failure is the run's first error, and its cancel hook
// wakes what the others block on besides the network and the compression window: the document
// sink (copy's channel) and the split collections' joins.
Status Dumper::run_jobs() {
  std::size_t n = static_cast<std::size_t>(std::max({1, opts_.parallel_collections, opts_.readers}));
  auto wake = exec_.on_cancel([this] {
    if (opts_.document_sink) opts_.document_sink->cancel();
    for (auto& c : colls_) {
      std::lock_guard lock(c->mu);
      if (c->join) c->join->cancel(errors_.status());
    }
  });
  std::vector<std::unique_ptr<io::Connection>> conns(n);
  exec_.for_each(jobs_.size(), n, "dump: reading ranges",
                 [&](std::size_t w, std::size_t i) { return read_range(conns[w], i); });
  return errors_.status();
}

Status Dumper::read_range(std::unique_ptr<io::Connection>& conn, std::size_t i) {
  if (!conn) {
    auto c = connect();
    if (!c) return {ErrorCode::kNetwork, "cannot connect to " + uri_.redacted() + ": " + c.error().to_string()};
    conn = std::move(*c);
  }
  Status s = RangeReader(*this, conn, jobs_[i]).run();
  // Name the namespace in the one-line error, unless the message already does.
  std::string ns = jobs_[i].coll->ns();
  if (!s && s.code() != ErrorCode::kCancelled && s.message().find(ns) == std::string::npos)
    s = Status(s.code(), ns + ": " + s.message(), s.offset());
  return s;
}

// Runs once per collection, on the thread that finished its last range.
Status Dumper::finish_collection(CollectionJob& c) {
  c.progress->done = true;
  return sink_->finish_collection(c);
}

StreamWriterOptions Dumper::stream_options() const {
  return {.codec = opts_.codec, .level = opts_.level, .block_bytes = opts_.block_bytes, .buffers = opts_.block_buffers};
}

// A split collection's join, made by the first of its ranges to start: the collection's one file
// (opened as an unsplit collection's, hashed for the manifest) fed in range order. The stream is
// finished and committed by whichever reader writes the last range's last batch.
Result<RangeJoin*> Dumper::range_join(CollectionJob& c) {
  std::lock_guard lock(c.mu);
  if (c.join) return c.join.get();
  StreamOutput out;
  if (Status s = sink_->open_range(c, 0, /*multi=*/false, out); !s) return s;
  auto stream = std::make_shared<StreamWriter>(std::move(out), &pool_, stream_options(), *sink_, c.db, c.data_name);
  c.join = std::make_unique<RangeJoin>(
      c.ranges.size(), opts_.range_window_bytes,
      [stream](std::span<const ByteSpan> docs) { return stream->write(docs); },
      [stream, &c]() -> Status {
        if (Status s = stream->finish(/*empty_member=*/true, /*durable=*/true); !s) return s;
        std::lock_guard lock(c.mu);
        c.stored_bytes = stream->stored_bytes();
        c.data_hash = stream->hash_hex();
        return {};
      });
  return c.join.get();
}

}  // namespace bsonpipe::pipeline::dump_detail
