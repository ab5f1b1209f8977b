#pragma once

#include <string>
#include <string_view>

namespace graybench {

/// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// The reversible escape every string field of the results file goes through (docs/schema.md,
/// "Strings"): a backslash becomes two backslashes, each byte that is not part of well-formed
/// UTF-8 becomes the four characters \xNN (lower-case hex), everything else is kept. The result
/// is always valid UTF-8; unescape_utf8() gives back the original bytes.
std::string escape_utf8(std::string_view s);

/// Inverse of escape_utf8().
std::string unescape_utf8(std::string_view s);

/// Text from a library (a decoder's error message, which may quote raw file bytes) with control
/// characters replaced by '?', so none can reach a terminal. Other bytes are kept: stored, they
/// go through escape_utf8() like every string ("PLT\xe5 PNG chunk not known").
std::string without_controls(std::string_view s);

}  // namespace graybench
