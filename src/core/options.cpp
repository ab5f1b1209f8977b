#include "core/options.hpp"

namespace graybench {

std::optional<OmpSchedule> parse_omp_schedule(std::string_view text) {
  OmpSchedule s;
  const auto comma = text.find(',');
  const auto kind = parse_enum<OmpKind>(text.substr(0, comma));
  if (!kind) return std::nullopt;
  s.kind = *kind;
  s.chunk = 0;
  if (comma != std::string_view::npos) {
    const std::string chunk(text.substr(comma + 1));
    std::size_t used = 0;
    try {
      s.chunk = std::stoi(chunk, &used);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (used != chunk.size() || s.chunk < 1) return std::nullopt;
  } else if (s.kind == OmpKind::kDynamic) {
    s.chunk = 1;
  }
  return s;
}

std::string to_string(const OmpSchedule& s) {
  std::string out(name_of(s.kind));
  if (s.chunk > 0) out += "," + std::to_string(s.chunk);
  return out;
}

}  // namespace graybench
