#include "core/json_input.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/errors.hpp"

namespace hpsearch {

using nlohmann::json;

namespace {

std::string too_deep(const std::string& where) {
  return where + ": nested deeper than " + std::to_string(kMaxJsonDepth) +
         " levels of arrays and objects (no space needs that many; is the file generated wrongly?)";
}

// Refuses text nested too deep before the parser builds it: one pass over the bytes, counting
// brackets outside strings, so that neither the parser's result nor any later walk recurses deeply.
void check_text_depth(const std::string& text, const std::string& where) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) throw UserError(too_deep(where));
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

// The parser's message without nlohmann's "[json.exception.parse_error.101] " prefix.
std::string parse_message(const json::exception& e) {
  const std::string what = e.what();
  const auto close = what.find("] ");
  return close == std::string::npos ? what : what.substr(close + 2);
}

}  // namespace

json parse_user_json(const std::string& text, const std::string& where) {
  check_text_depth(text, where);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range.406 for 1e400
    throw UserError(where + ": not valid JSON: " + quoted_text(parse_message(e), 300));
  }
}

std::optional<json> try_parse_user_json(const std::string& text, const std::string& where) {
  check_text_depth(text, where);
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

int json_depth(const json& value) {
  int deepest = 0;
  std::vector<std::pair<const json*, int>> stack{{&value, 0}};
  while (!stack.empty()) {
    const auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const auto& child : *v) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}

void check_json_depth(const json& value, const std::string& where) {
  if (json_depth(value) > kMaxJsonDepth) throw UserError(too_deep(where));
}

std::string json_text(const json& value, std::size_t max_bytes) {
  // Deeper than the limit only through a bug: say so rather than recurse into it.
  if (json_depth(value) > kMaxJsonDepth) return "(a value nested deeper than " + std::to_string(kMaxJsonDepth) + " levels)";
  std::string text = value.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
  if (text.size() > max_bytes) text = text.substr(0, max_bytes) + "...";
  return text;
}

std::string quoted_text(const std::string& text, std::size_t max_bytes) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= max_bytes) return out + "...";
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    }
  }
  return out;
}

bool is_valid_utf8(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xe0) == 0xc0) {
      n = 1, min = 0x80, cp = b & 0x1fu;
    } else if ((b & 0xf0) == 0xe0) {
      n = 2, min = 0x800, cp = b & 0x0fu;
    } else if ((b & 0xf8) == 0xf0) {
      n = 3, min = 0x10000, cp = b & 0x07u;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= text.size()) return false;
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3fu);
    }
    // Overlong forms, UTF-16 surrogates and code points beyond Unicode are not UTF-8 either.
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace hpsearch
