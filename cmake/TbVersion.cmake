# Regenerates tb_version.cpp on every build so each run row records the commit it came from.
set(TB_VERSION_CPP ${CMAKE_BINARY_DIR}/generated/tb_version.cpp)
add_custom_target(tb_version_gen
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${TB_VERSION_CPP}
          -DVERSION=${PROJECT_VERSION} "-DCOMPILER=${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}"
          -P ${CMAKE_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${TB_VERSION_CPP}
  COMMENT "Recording git commit"
  VERBATIM)
