# Sanitizer and fuzzing builds (preset `asan`). The sanitizers apply to every target defined
# after this file is included, so the libraries, the unit tests and the fuzz targets share
# one build.
option(TB_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer, halting at the first finding" OFF)
option(TB_FUZZ "Build the libFuzzer targets under fuzz/ (clang only; implies TB_SANITIZE)" OFF)

if(TB_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "TB_FUZZ needs clang's libFuzzer, but the C++ compiler is ${CMAKE_CXX_COMPILER_ID}; "
                      "configure with `cmake --preset asan` (clang++-14; scripts/setup.sh installs it)")
endif()

if(TB_SANITIZE OR TB_FUZZ)
  # -fno-sanitize-recover: UBSan otherwise prints a finding and carries on, and the test passes.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
# TB_FUZZ's coverage flags go on the fuzzed libraries only (fuzz/CMakeLists.txt).
