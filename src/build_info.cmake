# Build metadata recorded in every HDF5 run: compiler, flags, build type (configure time) and the git
# revision (refreshed at every build, so a rebuilt binary never reports a stale commit).
string(TOUPPER "${CMAKE_BUILD_TYPE}" _gb_bt)
set(GRAYBENCH_COMPILER "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}")
set(GRAYBENCH_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${_gb_bt}}")
string(STRIP "${GRAYBENCH_CXX_FLAGS}" GRAYBENCH_CXX_FLAGS)
if(GRAYBENCH_SANITIZE)
  string(APPEND GRAYBENCH_CXX_FLAGS " -fsanitize=${GRAYBENCH_SANITIZE}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/timing/build_info.cpp.in
               ${CMAKE_BINARY_DIR}/generated/build_info.cpp @ONLY)

set(GRAYBENCH_GIT_CPP ${CMAKE_BINARY_DIR}/generated/git_revision.cpp)
add_custom_target(graybench_git_revision
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${GRAYBENCH_GIT_CPP}
          -P ${CMAKE_CURRENT_LIST_DIR}/timing/git_revision.cmake
  BYPRODUCTS ${GRAYBENCH_GIT_CPP}
  COMMENT "Recording git revision")
