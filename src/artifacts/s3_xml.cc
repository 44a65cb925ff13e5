#include "artifacts/s3_xml.h"

#include <expat.h>

#include <charconv>
#include <memory>

namespace plinth::artifacts {
namespace {

// A parsed element: its local name (any "prefix:" dropped), text and children. S3 documents
// are small (a list page is at most 1000 entries), so a tree is simpler than streaming events.
struct XmlElement {
  std::string name;
  std::string text;
  std::vector<std::unique_ptr<XmlElement>> children;

  const XmlElement* Child(std::string_view n) const {
    for (const auto& c : children) {
      if (c->name == n) return c.get();
    }
    return nullptr;
  }
  std::string ChildText(std::string_view n) const {
    const XmlElement* c = Child(n);
    return c ? c->text : std::string();
  }
};

struct ParseState {
  std::unique_ptr<XmlElement> root;
  std::vector<XmlElement*> stack;
};

void OnStart(void* data, const XML_Char* name, const XML_Char**) {
  auto* st = static_cast<ParseState*>(data);
  auto element = std::make_unique<XmlElement>();
  std::string_view n = name;
  if (size_t colon = n.rfind(':'); colon != std::string_view::npos) n.remove_prefix(colon + 1);
  element->name = std::string(n);
  XmlElement* raw = element.get();
  if (st->stack.empty()) {
    if (st->root) return;  // a second root cannot happen: expat rejects it
    st->root = std::move(element);
  } else {
    st->stack.back()->children.push_back(std::move(element));
  }
  st->stack.push_back(raw);
}

void OnEnd(void* data, const XML_Char*) {
  auto* st = static_cast<ParseState*>(data);
  if (!st->stack.empty()) st->stack.pop_back();
}

void OnText(void* data, const XML_Char* s, int len) {
  auto* st = static_cast<ParseState*>(data);
  if (!st->stack.empty()) st->stack.back()->text.append(s, static_cast<size_t>(len));
}

Result<std::unique_ptr<XmlElement>> ParseXml(std::string_view xml) {
  std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(XML_ParserCreate("UTF-8"),
                                                                      &XML_ParserFree);
  if (!parser) return Internal("cannot create an XML parser");
  ParseState st;
  XML_SetUserData(parser.get(), &st);
  XML_SetElementHandler(parser.get(), OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser.get(), OnText);
  if (XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), XML_TRUE) !=
          XML_STATUS_OK ||
      !st.root) {
    return Internal(std::string("malformed XML from S3: ") +
                    XML_ErrorString(XML_GetErrorCode(parser.get())));
  }
  return std::move(st.root);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// encoding-type=url: S3 writes a space as '+' and a literal '+' as %2B.
std::string FormDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 &&
               HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

}  // namespace

Result<S3ListPage> ParseListObjectsV2(std::string_view xml, bool url_encoded) {
  PLINTH_ASSIGN_OR_RETURN(auto root, ParseXml(xml));
  if (root->name != "ListBucketResult") {
    return Internal("unexpected S3 list response <" + root->name + ">");
  }
  auto decode = [&](std::string s) { return url_encoded ? FormDecode(s) : s; };
  S3ListPage page;
  for (const auto& child : root->children) {
    if (child->name == "Contents") {
      S3ListedObject object;
      object.key = decode(child->ChildText("Key"));
      std::string size = child->ChildText("Size");
      std::from_chars(size.data(), size.data() + size.size(), object.size);
      page.objects.push_back(std::move(object));
    } else if (child->name == "CommonPrefixes") {
      page.common_prefixes.push_back(decode(child->ChildText("Prefix")));
    } else if (child->name == "IsTruncated") {
      page.is_truncated = child->text == "true";
    } else if (child->name == "NextContinuationToken") {
      page.next_continuation_token = child->text;
    }
  }
  return page;
}

bool ParseS3Error(std::string_view xml, S3Error* error) {
  if (xml.find("<Error") == std::string_view::npos) return false;
  auto root = ParseXml(xml);
  if (!root.ok() || (*root)->name != "Error") return false;
  error->code = (*root)->ChildText("Code");
  error->message = (*root)->ChildText("Message");
  return !error->code.empty();
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view xml) {
  PLINTH_ASSIGN_OR_RETURN(auto root, ParseXml(xml));
  std::string id = root->ChildText("UploadId");
  if (root->name != "InitiateMultipartUploadResult" || id.empty()) {
    return Internal("S3 did not return an UploadId");
  }
  return id;
}

Result<std::vector<std::pair<std::string, S3Error>>> ParseDeleteResult(std::string_view xml) {
  std::vector<std::pair<std::string, S3Error>> failed;
  if (xml.empty()) return failed;
  PLINTH_ASSIGN_OR_RETURN(auto root, ParseXml(xml));
  if (root->name != "DeleteResult") {
    return Internal("unexpected S3 delete response <" + root->name + ">");
  }
  for (const auto& child : root->children) {
    if (child->name == "Error") {
      failed.emplace_back(child->ChildText("Key"),
                          S3Error{child->ChildText("Code"), child->ChildText("Message")});
    }
  }
  return failed;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string CompleteMultipartUploadXml(const std::vector<std::string>& etags) {
  std::string out = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           XmlEscape(etags[i]) + "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string DeleteObjectsXml(const std::vector<std::string>& keys) {
  std::string out = "<Delete><Quiet>true</Quiet>";
  for (const std::string& key : keys) {
    out += "<Object><Key>" + XmlEscape(key) + "</Key></Object>";
  }
  out += "</Delete>";
  return out;
}

}  // namespace plinth::artifacts
