#include "timing/schema.hpp"

namespace graybench {

AttrType type_of(const AttrValue& v) {
  if (std::holds_alternative<std::int64_t>(v)) return AttrType::kInt64;
  if (std::holds_alternative<double>(v)) return AttrType::kFloat64;
  return AttrType::kString;
}

const AttributeSpec* find_attribute(std::span<const AttributeSpec> table, std::string_view name) {
  for (const auto& spec : table) {
    if (spec.prefix ? name.starts_with(spec.name) : name == spec.name) return &spec;
  }
  return nullptr;
}

std::vector<std::string> undeclared_attributes(std::span<const AttributeSpec> table,
                                               const Attributes& attrs) {
  std::vector<std::string> out;
  for (const auto& [name, value] : attrs.items()) {
    const AttributeSpec* spec = find_attribute(table, name);
    if (!spec) {
      out.push_back(name);
    } else if (spec->type != type_of(value)) {
      out.push_back(name + " (" + std::string(type_name(type_of(value))) + ", declared " +
                    std::string(type_name(spec->type)) + ")");
    }
  }
  return out;
}

}  // namespace graybench
