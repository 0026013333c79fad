#include "pipeline/sources/copy_channel.hpp"

#include <utility>

namespace bsonpipe::pipeline {

using formats::Bytes;
namespace archive = formats::archive;

namespace {
std::string ns_key(std::string_view db, std::string_view collection) {
  std::string k(db);
  k.push_back('\0');
  k.append(collection);
  return k;
}
}  // namespace

CopyChannel::CopyChannel(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

Status CopyChannel::closed_status() const {
  if (read_closed_) return {ErrorCode::kCancelled, "the restore side stopped reading"};
  if (!error_.is_ok()) return error_;
  return {ErrorCode::kCancelled, "the copy was stopped"};
}

Status CopyChannel::start(const archive::Prelude& p) {
  {
    std::lock_guard lock(mu_);
    if (started_) return {ErrorCode::kInternal, "copy: the prelude was sent twice"};
    if (write_closed_ || read_closed_) return closed_status();
    prelude_ = p;
    for (std::size_t i = 0; i < prelude_.collections.size(); ++i) {
      const auto& e = prelude_.collections[i];
      entries_[ns_key(e.db, e.collection)] = i;
      // A timeseries collection's documents travel under its buckets namespace (before 8.3).
      if (e.type == "timeseries") entries_[ns_key(e.db, std::string(archive::kBucketsPrefix) + e.collection)] = i;
    }
    started_ = true;
  }
  can_read_.notify_all();
  return {};
}

Status CopyChannel::push(Item item) {
  std::unique_lock lock(mu_);
  if (read_closed_ || write_closed_) return closed_status();
  if (!started_) return {ErrorCode::kInternal, "copy: documents before the prelude"};
  auto it = entries_.find(ns_key(item.db, item.collection));
  if (it == entries_.end())
    return {ErrorCode::kInternal, "copy: " + item.db + "." + item.collection + " is not in the copy's plan"};
  item.entry = it->second;
  const std::size_t size = item.docs.size();
  can_write_.wait(lock,
                  [&] { return read_closed_ || write_closed_ || buffered_ == 0 || buffered_ + size <= capacity_; });
  if (read_closed_ || write_closed_) return closed_status();
  buffered_ += size;
  items_.push_back(std::move(item));
  lock.unlock();
  can_read_.notify_one();
  return {};
}

Status CopyChannel::documents(std::string_view db, std::string_view collection, Bytes docs, std::size_t count) {
  if (docs.empty()) return {};
  return push({StreamEventKind::kDocuments, 0, std::string(db), std::string(collection), std::move(docs), count});
}

Status CopyChannel::end_namespace(std::string_view db, std::string_view collection) {
  return push({StreamEventKind::kNamespaceEnd, 0, std::string(db), std::string(collection), {}, 0});
}

void CopyChannel::close_write(Status error) {
  {
    std::lock_guard lock(mu_);
    if (write_closed_) return;  // the first close (and its error) stands
    write_closed_ = true;
    error_ = std::move(error);
    if (!error_.is_ok()) {
      items_.clear();
      buffered_ = 0;
    }
  }
  can_read_.notify_all();
  can_write_.notify_all();
}

void CopyChannel::close_read() {
  {
    std::lock_guard lock(mu_);
    read_closed_ = true;
    items_.clear();
    buffered_ = 0;
  }
  can_read_.notify_all();
  can_write_.notify_all();
}

Result<const archive::Prelude*> CopyChannel::read_prelude() {
  std::unique_lock lock(mu_);
  can_read_.wait(lock, [&] { return started_ || write_closed_ || read_closed_; });
  if (!error_.is_ok()) return error_;
  if (!started_) return Status{ErrorCode::kCancelled, "the copy stopped before its plan was made"};
  return &prelude_;
}

Status CopyChannel::next(StreamEvent& out) {
  out.kind = StreamEventKind::kEnd;
  out.entry = nullptr;
  out.documents.clear();
  out.count = 0;
  out.offset = offset_;
  if (ended_) return {};
  Item item;
  {
    std::unique_lock lock(mu_);
    can_read_.wait(lock, [&] { return !items_.empty() || write_closed_ || read_closed_; });
    if (!error_.is_ok()) return error_;
    if (read_closed_) return {ErrorCode::kCancelled, "the copy was stopped"};
    if (items_.empty()) {  // the dump finished and everything was handed over
      ended_ = true;
      return {};
    }
    item = std::move(items_.front());
    items_.pop_front();
    buffered_ -= item.docs.size();
  }
  can_write_.notify_all();
  out.kind = item.kind;
  out.entry = &prelude_.collections[item.entry];
  if (out.kind == StreamEventKind::kDocuments) {
    offset_ += static_cast<std::int64_t>(item.docs.size());
    out.documents = std::move(item.docs);
    out.count = item.count;
  }
  return {};
}

}  // namespace bsonpipe::pipeline
