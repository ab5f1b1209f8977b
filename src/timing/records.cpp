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

void put(WireWriter& w, const ImageRecord& r) {
  w.put(r.image);
  w.put_string(r.path);
  w.put(r.rank);
  w.put(r.worker);
  w.put(r.repeat);
  w.put(r.width);
  w.put(r.height);
  w.put(r.channels);
  w.put(r.bit_depth);
  w.put(r.bytes_in);
  w.put(r.bytes_out);
  w.put(r.status);
  w.put_string(r.error);
  w.put(r.checksum);
  for (double d : {r.t_start, r.t_end, r.read_s, r.decode_s, r.convert_s, r.encode_s, r.write_s,
                   r.queue_wait_s, r.ipc_s}) {
    w.put(d);
  }
  w.put(r.ipc_bytes);
  w.put(r.attempts);
}

void get(WireReader& rd, ImageRecord& r) {
  r.image = rd.get<std::uint64_t>();
  r.path = rd.get_string();
  r.rank = rd.get<std::int32_t>();
  r.worker = rd.get<std::int32_t>();
  r.repeat = rd.get<std::int32_t>();
  r.width = rd.get<std::uint32_t>();
  r.height = rd.get<std::uint32_t>();
  r.channels = rd.get<std::uint32_t>();
  r.bit_depth = rd.get<std::uint32_t>();
  r.bytes_in = rd.get<std::uint64_t>();
  r.bytes_out = rd.get<std::uint64_t>();
  r.status = rd.get<std::int32_t>();
  r.error = rd.get_string();
  r.checksum = rd.get<std::uint64_t>();
  for (double* d : {&r.t_start, &r.t_end, &r.read_s, &r.decode_s, &r.convert_s, &r.encode_s,
                    &r.write_s, &r.queue_wait_s, &r.ipc_s}) {
    *d = rd.get<double>();
  }
  r.ipc_bytes = rd.get<std::uint64_t>();
  r.attempts = rd.get<std::int32_t>();
}

void put(WireWriter& w, const RankRecord& r) {
  w.put(r.rank);
  w.put_string(r.host);
  w.put(r.n_images);
  w.put(r.n_failed);
  for (double d : {r.wall_s, r.compute_s, r.distribute_s, r.gather_s, r.idle_s, r.setup_s,
                   r.teardown_s, r.user_s, r.sys_s}) {
    w.put(d);
  }
  w.put(r.max_rss_kb);
  w.put_string(r.cpus);
  w.put_string(r.worker_cpus);
}

void get(WireReader& rd, RankRecord& r) {
  r.rank = rd.get<std::int32_t>();
  r.host = rd.get_string();
  r.n_images = rd.get<std::uint64_t>();
  r.n_failed = rd.get<std::uint64_t>();
  for (double* d : {&r.wall_s, &r.compute_s, &r.distribute_s, &r.gather_s, &r.idle_s, &r.setup_s,
                    &r.teardown_s, &r.user_s, &r.sys_s}) {
    *d = rd.get<double>();
  }
  r.max_rss_kb = rd.get<std::int64_t>();
  r.cpus = rd.get_string();
  r.worker_cpus = rd.get_string();
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
