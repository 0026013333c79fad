#include "pipeline/ops/restore_outcome.hpp"

#include <algorithm>

#include "formats/extjson.hpp"
#include "io/uri.hpp"

namespace bsonpipe::pipeline {

bool RestoreReport::ok() const {
  if (failed != 0) return false;
  return std::all_of(namespaces.begin(), namespaces.end(),
                     [](const NamespaceReport& n) { return n.completed && n.error.empty(); });
}

Result<formats::Bytes> parse_write_concern(std::string_view text) {
  formats::Builder b;
  if (text.empty()) return b.finish();
  if (text.front() == '{') {
    auto doc = formats::extjson::parse(text);
    if (!doc) return Status{ErrorCode::kInvalidArgument, "--writeConcern: " + doc.status().to_string()};
    return std::move(*doc);
  }
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) && text.size() < 6) {
    b.append_int32("w", std::stoi(std::string(text)));
  } else {
    b.append_string("w", text);
  }
  return b.finish();
}

formats::Bytes default_write_concern(const io::Uri& uri) {
  formats::Builder b;
  if (uri.write_concern_w.empty()) {
    b.append_string("w", "majority");
  } else if (auto w = parse_write_concern(uri.write_concern_w); w && formats::DocView(*w).find("w").valid()) {
    b.append_element("w", formats::DocView(*w).find("w"));
  }
  if (uri.journal) b.append_bool("j", *uri.journal);
  if (uri.wtimeout.count() > 0) b.append_int64("wtimeout", uri.wtimeout.count());
  return b.finish();
}

WriteErrorTally tally_write_errors(const std::vector<io::WriteError>& errors, bool resent) {
  WriteErrorTally t;
  for (const auto& we : errors) {
    if (we.code == kDuplicateKeyCode && resent && we.errmsg.find("index: _id_") != std::string::npos) {
      ++t.present;
    } else if (we.code == kDuplicateKeyCode) {
      ++t.duplicates;
    } else if (we.code == kDocumentValidationCode) {
      ++t.invalid;
    } else {
      ++t.others;
      t.reasons.push_back(we.errmsg + " (code " + std::to_string(we.code) + ")");
    }
  }
  return t;
}

std::string finished_restoring_line(const std::string& ns, std::uint64_t inserted, std::uint64_t failures) {
  return "finished restoring " + ns + " (" + std::to_string(inserted) +
         (inserted == 1 ? " document, " : " documents, ") + std::to_string(failures) +
         (failures == 1 ? " failure)" : " failures)");
}

Status failed_namespaces_status(const std::vector<NamespaceReport>& namespaces) {
  std::vector<const NamespaceReport*> failed;
  for (const auto& n : namespaces)
    if (!n.error.empty()) failed.push_back(&n);
  if (failed.empty()) return {};
  if (failed.size() == 1) return {ErrorCode::kServer, failed.front()->error};
  std::string msg = std::to_string(failed.size()) + " namespaces could not be restored:";
  for (std::size_t i = 0; i < failed.size(); ++i) msg += (i ? ", " : " ") + failed[i]->target_ns;
  return {ErrorCode::kServer, msg};
}

}  // namespace bsonpipe::pipeline
