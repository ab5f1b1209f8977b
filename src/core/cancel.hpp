#pragma once

#include <stdexcept>

namespace graybench {

/// Thrown inside per-image work (between kernel repeats, while waiting for memory) once a stop
/// was requested: the image becomes a not_processed row.
class StopRequested : public std::runtime_error {
 public:
  StopRequested() : std::runtime_error("run interrupted") {}
};

/// True once the job was asked to stop (SIGTERM/SIGINT): per-image loops check it between
/// images so a run can end early and be saved as incomplete.
bool stop_requested();
/// Throws StopRequested when a stop was requested.
inline void throw_if_stopped() {
  if (stop_requested()) throw StopRequested();
}
/// Requests a stop (async-signal-safe).
void request_stop();
/// Installs SIGTERM and SIGINT handlers that request a stop (SA_RESTART: other system calls go
/// on; poll() returns EINTR so waiting loops look at the flag).
void install_stop_handlers();
/// The signal that requested the stop, 0 if none (or a stop requested by a call).
int stop_signal();
/// Clears the request (tests).
void clear_stop();

}  // namespace graybench
