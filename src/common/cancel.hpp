#pragma once

namespace graybench {

/// True once the job was asked to stop (SIGTERM/SIGINT): per-image loops check it between
/// images so a run can end early and be saved as incomplete.
bool stop_requested();
/// Requests a stop (async-signal-safe).
void request_stop();
/// Clears the request (tests).
void clear_stop();

}  // namespace graybench
