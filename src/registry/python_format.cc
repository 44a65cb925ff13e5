#include "registry/python_format.h"

#include <cstdint>
#include <vector>

namespace plinth::registry {
namespace {

// The next code point of UTF-8 text at s[*i] (advancing *i); invalid bytes read as U+FFFD.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(*i);
  int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
  if (extra < 0 || *i + static_cast<size_t>(extra) >= s.size()) {
    ++*i;
    return 0xFFFD;
  }
  uint32_t cp = extra == 0 ? c : c & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    const unsigned char next = byte(*i + static_cast<size_t>(k));
    if ((next & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (next & 0x3F);
  }
  *i += static_cast<size_t>(extra) + 1;
  return cp;
}

void AppendU16(uint32_t unit, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(unit >> shift) & 0xF]);
}

}  // namespace

std::string PythonJsonString(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const uint32_t cp = NextCodePoint(s, &i);
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (cp < 0x20 || cp >= 0x7F) {
          if (cp >= 0x10000) {
            const uint32_t v = cp - 0x10000;
            AppendU16(0xD800 + (v >> 10), &out);
            AppendU16(0xDC00 + (v & 0x3FF), &out);
          } else {
            AppendU16(cp, &out);
          }
        } else {
          out.push_back(static_cast<char>(cp));
        }
    }
  }
  return out + "\"";
}

std::string PosixNormpath(std::string_view p) {
  if (p.empty()) return ".";
  const bool absolute = p.front() == '/';
  // POSIX keeps exactly two leading slashes; three or more collapse to one.
  const bool double_slash =
      absolute && p.size() > 1 && p[1] == '/' && (p.size() == 2 || p[2] != '/');
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
        continue;
      }
      if (absolute) continue;  // "/.." is "/"
    }
    parts.push_back(part);
  }
  std::string out = double_slash ? "//" : absolute ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k > 0) out += '/';
    out += parts[k];
  }
  return out.empty() ? "." : out;
}

}  // namespace plinth::registry
