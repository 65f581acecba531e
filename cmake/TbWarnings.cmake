# INTERFACE target carrying the project's warning flags; linked PRIVATE by every module.
add_library(tb_warnings INTERFACE)
add_library(tb::warnings ALIAS tb_warnings)
target_compile_options(tb_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor
  $<$<BOOL:${TB_WERROR}>:-Werror>)
# GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 headers whenever Eigen code is
# inlined with -march=native (GCC bug 105593, fixed in 13); the warning is unusable there.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13 AND TB_NATIVE)
  target_compile_options(tb_warnings INTERFACE -Wno-maybe-uninitialized)
endif()
# Speed matters for every sweep: native code unless the user asks for portable binaries.
add_library(tb_arch INTERFACE)
add_library(tb::arch ALIAS tb_arch)
if(TB_NATIVE)
  target_compile_options(tb_arch INTERFACE -march=native)
endif()

# tb_add_module(<name> <src-glob-dir> PUBLIC ... PRIVATE ...): a library target tb_<name>
# with alias tb::<name>, sources globbed from one folder (so parallel work on different
# files never edits a source list). A module whose folder is still empty becomes an
# INTERFACE target, so the tree configures while modules are being written.
function(tb_add_module name srcdir)
  cmake_parse_arguments(ARG "" "" "PUBLIC;PRIVATE" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${srcdir}/*.cpp)
  list(FILTER sources EXCLUDE REGEX ".*/main\\.cpp$")
  if(sources)
    add_library(tb_${name} ${sources})
    target_include_directories(tb_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(tb_${name} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE} tb::warnings)
  else()
    add_library(tb_${name} INTERFACE)
    target_include_directories(tb_${name} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(tb_${name} INTERFACE ${ARG_PUBLIC})
  endif()
  add_library(tb::${name} ALIAS tb_${name})
endfunction()
