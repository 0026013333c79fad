#include "io/s3_xml.hpp"

#include <expat.h>

#include <memory>

namespace bsonpipe::io {

namespace {

struct Builder {
  XmlElement root;
  std::vector<XmlElement*> stack;  // open elements, innermost last
  bool have_root = false;
};

std::string local_name(const XML_Char* name) {
  std::string_view n(name);
  // With namespace processing expat reports "URI|local".
  auto bar = n.rfind('|');
  return std::string(bar == std::string_view::npos ? n : n.substr(bar + 1));
}

void on_start(void* data, const XML_Char* name, const XML_Char**) {
  auto* b = static_cast<Builder*>(data);
  XmlElement* e;
  if (b->stack.empty()) {
    e = &b->root;
    b->have_root = true;
  } else {
    b->stack.back()->children.emplace_back();
    e = &b->stack.back()->children.back();
  }
  e->name = local_name(name);
  b->stack.push_back(e);
}

void on_end(void* data, const XML_Char*) {
  static_cast<Builder*>(data)->stack.pop_back();
}

void on_text(void* data, const XML_Char* s, int len) {
  auto* b = static_cast<Builder*>(data);
  if (!b->stack.empty()) b->stack.back()->text.append(s, static_cast<std::size_t>(len));
}

}  // namespace

const XmlElement* XmlElement::child(std::string_view n) const {
  for (const auto& c : children)
    if (c.name == n) return &c;
  return nullptr;
}

std::string XmlElement::child_text(std::string_view n) const {
  const XmlElement* c = child(n);
  return c == nullptr ? std::string() : c->text;
}

Result<XmlElement> parse_xml(std::string_view document) {
  std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(XML_ParserCreateNS(nullptr, '|'),
                                                                      &XML_ParserFree);
  if (!parser) return Status(ErrorCode::kInternal, "cannot create an XML parser");
  Builder b;
  XML_SetUserData(parser.get(), &b);
  XML_SetElementHandler(parser.get(), on_start, on_end);
  XML_SetCharacterDataHandler(parser.get(), on_text);
  // Children are appended while a parent's pointer is on the stack: reserve nothing, but never
  // hold pointers across appends to the same vector (only the innermost element grows).
  if (XML_Parse(parser.get(), document.data(), static_cast<int>(document.size()), XML_TRUE) == XML_STATUS_ERROR)
    return Status(ErrorCode::kInvalidArgument, std::string("malformed XML response: ") +
                                                   XML_ErrorString(XML_GetErrorCode(parser.get())) + " at line " +
                                                   std::to_string(XML_GetCurrentLineNumber(parser.get())));
  if (!b.have_root) return Status(ErrorCode::kInvalidArgument, "malformed XML response: no element");
  return std::move(b.root);
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace bsonpipe::io
