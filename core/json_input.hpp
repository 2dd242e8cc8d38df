#pragma once
// Reading JSON that a user wrote (space files, --set values, --params files, documents read back
// from a database) without letting it crash the program, and quoting it back in messages.
//
// nlohmann's parser is iterative, but almost everything done with its result afterwards (copies,
// comparisons, dump(), the space parser, resolution) recurses once per level of nesting, so JSON
// nested some 10,000 levels deep overflows the stack. No real space comes near kMaxJsonDepth:
// deeper input is refused as the user's mistake, before anything recurses over it.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace hpsearch {

// The deepest nesting of arrays and objects accepted in any JSON from the user (the one limit).
inline constexpr int kMaxJsonDepth = 64;

// Parses user text. Throws UserError "WHERE: not valid JSON: ..." for a syntax error, invalid
// UTF-8 or a number beyond a double's range, and "WHERE: nested deeper than ..." for deep input.
nlohmann::json parse_user_json(const std::string& text, const std::string& where);
// The same, but nullopt where the text is not JSON at all (a --set value read as a string then);
// JSON nested too deep is still refused with UserError.
std::optional<nlohmann::json> try_parse_user_json(const std::string& text, const std::string& where);

// Levels of nesting of a value: 0 for a scalar, 1 for [1, 2], 2 for {"a": [1]}. Iterative.
int json_depth(const nlohmann::json& value);
// Throws UserError "WHERE: nested deeper than ..." when json_depth(value) > kMaxJsonDepth.
void check_json_depth(const nlohmann::json& value, const std::string& where);

// The value as JSON text for a message: ASCII only (invalid UTF-8 in a string is replaced, where
// dump() would throw type_error.316), cut to about `max_bytes` with "..." so that a message stays
// short however large the value.
std::string json_text(const nlohmann::json& value, std::size_t max_bytes = 200);
// Any text from the user (a key, a file name) for a message: printable ASCII, other bytes escaped
// as \xNN, cut likewise.
std::string quoted_text(const std::string& text, std::size_t max_bytes = 200);

// Whether `text` is valid UTF-8 (what JSON strings must be).
bool is_valid_utf8(const std::string& text);

}  // namespace hpsearch
