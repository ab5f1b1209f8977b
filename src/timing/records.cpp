#include "timing/records.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace graybench {

void Attributes::set(const std::string& name, AttrValue value) {
  for (auto& [k, v] : items_) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(name, std::move(value));
}

const AttrValue* Attributes::find(const std::string& name) const {
  for (const auto& [k, v] : items_) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::string Attributes::str(const std::string& name) const {
  const auto* v = find(name);
  return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : std::string();
}

std::int64_t Attributes::integer(const std::string& name) const {
  const auto* v = find(name);
  if (!v) return 0;
  if (const auto* i = std::get_if<std::int64_t>(v)) return *i;
  if (const auto* d = std::get_if<double>(v)) return static_cast<std::int64_t>(*d);
  return 0;
}

double Attributes::real(const std::string& name) const {
  const auto* v = find(name);
  if (!v) return 0;
  if (const auto* d = std::get_if<double>(v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  return 0;
}

ResourceUsage ResourceUsage::now() {
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  ResourceUsage u;
  u.user_s = secs(self.ru_utime) + secs(children.ru_utime);
  u.sys_s = secs(self.ru_stime) + secs(children.ru_stime);
  u.max_rss_kb = std::max(self.ru_maxrss, children.ru_maxrss);
  return u;
}

}  // namespace graybench
