// A small element tree parsed with expat, for S3's XML responses (listings, errors, upload ids).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "formats/status.hpp"

namespace bsonpipe::io {

// One element: its local name (namespace dropped), its text and its child elements in order.
struct XmlElement {
  std::string name;
  std::string text;
  std::vector<XmlElement> children;

  // The first child named `name`, or null.
  const XmlElement* child(std::string_view name) const;
  // The text of the first child named `name`, or "".
  std::string child_text(std::string_view name) const;
};

// Parses a whole document; malformed XML is an error naming the line. Threading: reentrant.
Result<XmlElement> parse_xml(std::string_view document);

// `text` with &, <, >, " and ' escaped (for request bodies).
std::string xml_escape(std::string_view text);

}  // namespace bsonpipe::io
