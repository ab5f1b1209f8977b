# `cmake --install build --prefix P` lays graybench out like HPC software:
#   P/bin/graybench, graybench-gen      the job and the input generator, and graybench-worker
#                                       (what `processes` runs); RPATH to the MPI, HDF5 and
#                                       Boost they were linked with, so a module-loaded
#                                       toolchain need not stay loaded for them to start
#   P/bin/graybench-<tool>, bench-...   the Python tools, thin wrappers around
#   P/share/graybench/tools/            the tool scripts and their package graybench_tools/
#   P/share/graybench/jobs/             Slurm job scripts and their README; also P/bin/graybench-sweep
#   P/share/graybench/docs/             README, schema and other docs
#   P/share/man/man1/graybench.1        man page made from `graybench --help`
#   P/share/modulefiles/graybench/<version>.lua   Lmod modulefile for P (template beside it:
#                                       P/share/graybench/graybench.lua.in)
include(GNUInstallDirs)

set_target_properties(graybench graybench-gen graybench-worker PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
install(TARGETS graybench graybench-gen graybench-worker RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(_gb_share ${CMAKE_INSTALL_DATADIR}/graybench)
install(DIRECTORY tools/graybench_tools DESTINATION ${_gb_share}/tools
        FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
# Commands: every executable Python script in tools/ without an extension (graybench-merge,
# graybench-report, ...), plus report.py and slurm-cluster for users who know them.
file(GLOB _gb_tool_candidates LIST_DIRECTORIES false ${PROJECT_SOURCE_DIR}/tools/*)
set(_gb_commands "")
foreach(_f IN LISTS _gb_tool_candidates)
  get_filename_component(_name ${_f} NAME)
  if(_name MATCHES "\\.")
    continue()
  endif()
  file(STRINGS ${_f} _first LIMIT_COUNT 1)
  if(_first MATCHES "^#!/usr/bin/python3")
    list(APPEND _gb_commands ${_name})
  endif()
  install(PROGRAMS ${_f} DESTINATION ${_gb_share}/tools)
endforeach()
install(PROGRAMS tools/report.py DESTINATION ${_gb_share}/tools)
install(PROGRAMS jobs/graybench.sbatch jobs/graybench-sweep jobs/graybench-sweep.sbatch
        DESTINATION ${_gb_share}/jobs)
install(FILES jobs/README.md DESTINATION ${_gb_share}/jobs)
file(GLOB _gb_docs ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES README.md ${_gb_docs} DESTINATION ${_gb_share}/docs)
install(FILES cmake/graybench.lua.in DESTINATION ${_gb_share})

# Wrappers in bin: each finds its script relative to itself, so the tree can move as a whole.
# Python tools run with GRAYBENCH_PYTHON (default: Debian's /usr/bin/python3, which has h5py).
set(_gb_wrappers "${_gb_commands}")
list(APPEND _gb_wrappers graybench-sweep)
foreach(_name IN LISTS _gb_wrappers)
  if(_name STREQUAL "graybench-sweep")
    set(_target "jobs/graybench-sweep")
    set(_run "")
  else()
    set(_target "tools/${_name}")
    set(_run "\"\${GRAYBENCH_PYTHON:-/usr/bin/python3}\" ")
  endif()
  file(WRITE ${PROJECT_BINARY_DIR}/wrappers/${_name}
       "#!/bin/sh\n# installed by graybench: runs share/graybench/${_target}\n"
       "bin=\"$(cd \"$(dirname \"$(readlink -f \"$0\")\")\" && pwd)\"\n"
       "exec ${_run}\"$bin/../${_gb_share}/${_target}\" \"$@\"\n")
  install(PROGRAMS ${PROJECT_BINARY_DIR}/wrappers/${_name} DESTINATION ${CMAKE_INSTALL_BINDIR})
endforeach()

# Man page from --help (graybench initialises MPI first; as root Open MPI needs permission).
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/graybench.1
  COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:graybench> -DOUT=${PROJECT_BINARY_DIR}/graybench.1
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/manpage.cmake
  DEPENDS graybench ${PROJECT_SOURCE_DIR}/cmake/manpage.cmake
  COMMENT "Man page graybench.1 from graybench --help")
add_custom_target(graybench_manpage ALL DEPENDS ${PROJECT_BINARY_DIR}/graybench.1)
install(FILES ${PROJECT_BINARY_DIR}/graybench.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# The modulefile names the prefix given at install time (cmake --install --prefix P).
install(CODE "
  set(PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(VERSION \"${PROJECT_VERSION}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/cmake/graybench.lua.in\"
                 \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/modulefiles/graybench/${PROJECT_VERSION}.lua\" @ONLY)
  message(STATUS \"Installing: \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/modulefiles/graybench/${PROJECT_VERSION}.lua\")
")
