#include "tools/minimongod/fault_gate.hpp"

namespace bsonpipe::minimongod {

using formats::BsonType;
using formats::DocView;
using formats::ElementView;

namespace {

std::string_view command_name(DocView command) {
  auto it = command.begin();
  return it == command.end() ? std::string_view{} : (*it).key();
}

std::string string_field(DocView d, std::string_view key) {
  ElementView e = d.find(key);
  return e.valid() && e.type() == BsonType::kString ? std::string(e.as_string()) : std::string();
}

// "db.coll" of a command: the collection is the command's own string value (find, insert, ...)
// or its `collection` field (getMore).
std::string command_namespace(DocView command) {
  std::string coll;
  if (auto it = command.begin(); it != command.end() && (*it).type() == BsonType::kString)
    coll = std::string((*it).as_string());
  else
    coll = string_field(command, "collection");
  return string_field(command, "$db") + "." + coll;
}

}  // namespace

bool FaultGate::is_control(DocView command) {
  return command_name(command) == "faultGate";
}

formats::Bytes FaultGate::control(DocView command) {
  std::lock_guard lock(mu_);
  if (ElementView arm = command.find("arm"); arm.valid() && arm.type() == BsonType::kDocument) {
    DocView a = arm.as_document();
    cmd_ = string_field(a, "cmd");
    ns_ = string_field(a, "ns");
    ElementView after = a.find("after");
    after_ = after.valid() ? static_cast<std::int64_t>(after.number_as_double()) : 0;
    passed_ = 0;
    armed_ = true;
  }
  if (ElementView open = command.find("open"); open.valid() && open.as_bool()) {
    armed_ = false;
    ++generation_;
    cv_.notify_all();
  }
  return status_reply();
}

void FaultGate::pass(DocView command) {
  std::unique_lock lock(mu_);
  if (!armed_ || stopped_ || !matches(command)) return;
  if (passed_ < after_) {
    ++passed_;
    return;
  }
  const std::uint64_t gen = generation_;
  ++blocked_;
  cv_.wait(lock, [&] { return stopped_ || generation_ != gen; });
  --blocked_;
}

void FaultGate::shutdown() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  cv_.notify_all();
}

bool FaultGate::matches(DocView command) const {
  if (command_name(command) != cmd_) return false;
  return ns_.empty() || command_namespace(command) == ns_;
}

formats::Bytes FaultGate::status_reply() const {
  formats::Builder b;
  b.append_int64("blocked", blocked_);
  b.append_int64("passed", passed_);
  b.append_double("ok", 1.0);
  return b.finish();
}

}  // namespace bsonpipe::minimongod
