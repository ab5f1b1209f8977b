#include "app/redistribute.hpp"

#include <iostream>

#include "core/errors.hpp"
#include "core/wire.hpp"
#include "mpi/distribution.hpp"

namespace graybench {

namespace {

void put_items(WireWriter& w, const std::vector<WorkItem>& items) {
  w.put<std::uint64_t>(items.size());
  for (const auto& item : items) {
    w.put(item.index);
    w.put_string(item.file.path);
    w.put(item.file.size);
    w.put_string(item.file.output_rel);
  }
}

std::vector<WorkItem> get_items(WireReader& r) {
  std::vector<WorkItem> items(r.get<std::uint64_t>());
  for (auto& item : items) {
    item.index = r.get<std::uint64_t>();
    item.file.path = r.get_string();
    item.file.size = r.get<std::uint64_t>();
    item.file.output_rel = r.get_string();
  }
  return items;
}

}  // namespace

std::uint64_t redistribute_returned(const StrategyContext& ctx, Strategy strategy,
                                    StrategyOutcome& outcome, const mpi::Comm& comm) {
  WireWriter mine;
  mine.put<std::uint8_t>(outcome.gave_up ? 1 : 0);
  put_items(mine, outcome.returned);
  outcome.returned.clear();
  const auto parts = comm.gather(mine.buffer(), 0);

  std::vector<std::vector<std::uint8_t>> orders;
  std::uint64_t moved = 0;
  if (comm.rank() == 0) {
    const int n = comm.size();
    std::vector<std::vector<WorkItem>> returned(n), assigned(n);
    std::vector<int> healthy;
    for (int r = 0; r < n; ++r) {
      WireReader in(parts[r]);
      if (in.get<std::uint8_t>() == 0) healthy.push_back(r);
      returned[r] = get_items(in);
    }
    std::size_t next = 0;
    for (int r = 0; r < n; ++r) {
      for (auto& item : returned[r]) {
        if (healthy.empty()) {
          assigned[r].push_back(std::move(item));  // nobody can: the holder records it lost
        } else {
          assigned[healthy[next++ % healthy.size()]].push_back(std::move(item));
          ++moved;
        }
      }
    }
    for (int r = 0; r < n; ++r) {
      WireWriter w;
      w.put<std::uint8_t>(healthy.empty() ? 1 : 0);
      put_items(w, assigned[r]);
      orders.push_back(w.take());
    }
  }
  const auto order = comm.scatter(orders, 0);
  WireReader r(order);
  const bool lost = r.get<std::uint8_t>() != 0;
  std::vector<WorkItem> items = get_items(r);
  if (items.empty()) return moved;
  if (lost) {
    for (const auto& item : items) {
      outcome.records.push_back(
          unprocessed_record(item, ImageStatus::kWorkerLost, "no live worker left on any rank"));
    }
    return moved;
  }
  // This rank still has workers: run the handed-over images the same way as its own.
  const double now = seconds_between(ctx.origin, Clock::now());
  for (auto& item : items)
    item.available_s = now;
  StaticFeed feed(std::move(items));
  StrategyContext again = ctx;
  again.feed = &feed;
  StrategyOutcome extra = strategy_info(strategy).run(again);
  for (auto& rec : extra.records)
    outcome.records.push_back(std::move(rec));
  outcome.setup_s += extra.setup_s;
  outcome.teardown_s += extra.teardown_s;
  return moved;
}

}  // namespace graybench
