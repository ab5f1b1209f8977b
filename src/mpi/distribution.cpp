#include "mpi/distribution.hpp"

#include <stdexcept>

#include "common/wire.hpp"

namespace graybench {

std::optional<Distribution> parse_distribution(std::string_view name) {
  if (name == "block") return Distribution::kBlock;
  return std::nullopt;
}

std::string_view to_string(Distribution d) {
  switch (d) {
    case Distribution::kBlock: return "block";
  }
  return "?";
}

std::vector<std::vector<std::uint64_t>> plan_static(Distribution policy,
                                                    const std::vector<InputFile>& files,
                                                    int ranks) {
  if (ranks < 1) throw std::invalid_argument("plan_static: ranks must be >= 1");
  std::vector<std::vector<std::uint64_t>> plan(static_cast<std::size_t>(ranks));
  const std::uint64_t n = files.size();
  switch (policy) {
    case Distribution::kBlock: {
      // Contiguous slices; the first n % ranks ranks take one extra, so counts differ by <= 1.
      const std::uint64_t base = n / ranks, extra = n % ranks;
      std::uint64_t next = 0;
      for (std::uint64_t r = 0; r < static_cast<std::uint64_t>(ranks); ++r) {
        const std::uint64_t count = base + (r < extra ? 1 : 0);
        for (std::uint64_t k = 0; k < count; ++k) plan[r].push_back(next++);
      }
      break;
    }
  }
  return plan;
}

namespace {
void put_item(WireWriter& w, std::uint64_t index, const InputFile& f) {
  w.put(index);
  w.put_string(f.path);
  w.put(f.size);
  w.put_string(f.output_rel);
}

WorkItem get_item(WireReader& r) {
  WorkItem item;
  item.index = r.get<std::uint64_t>();
  item.file.path = r.get_string();
  item.file.size = r.get<std::uint64_t>();
  item.file.output_rel = r.get_string();
  return item;
}
}  // namespace

std::vector<WorkItem> distribute_static(Distribution policy, const std::vector<InputFile>& files,
                                        const mpi::Comm& comm) {
  std::vector<std::vector<std::uint8_t>> parts;
  if (comm.rank() == 0) {
    for (const auto& indices : plan_static(policy, files, comm.size())) {
      WireWriter w;
      w.put<std::uint64_t>(indices.size());
      for (auto i : indices) put_item(w, i, files[i]);
      parts.push_back(w.take());
    }
  }
  const auto mine = comm.scatter(parts, 0);
  WireReader r(mine);
  std::vector<WorkItem> items(r.get<std::uint64_t>());
  for (auto& item : items) item = get_item(r);
  return items;
}

}  // namespace graybench
