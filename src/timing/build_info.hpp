#pragma once

namespace graybench {
/// graybench's own version ("0.1.0").
const char* version();
/// Compiler identification and version, e.g. "GNU 12.2.0".
const char* compiler();
/// The C++ flags of this build type.
const char* compiler_flags();
/// CMAKE_BUILD_TYPE at configure time.
const char* build_type();
/// `git describe --always --dirty` of the source tree at build time, or "unknown".
const char* git_revision();
}  // namespace graybench
