# SPDX-License-Identifier: Apache-2.0
# Warning flags, sanitizers and the per-directory helpers (nng_sources / nng_test style).

set(IGW_WARN_FLAGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
    -Wimplicit-fallthrough -Wcast-qual -Wvla -Wundef -Wwrite-strings -Wnull-dereference)
if(IGW_WERROR)
  list(APPEND IGW_WARN_FLAGS -Werror)
endif()

if(IGW_FUZZ)
  # every library is instrumented for coverage; only the fuzz drivers link libFuzzer's main
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(NOT IGW_SANITIZER STREQUAL "none")
  add_compile_options(-fsanitize=${IGW_SANITIZER} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${IGW_SANITIZER})
endif()

# igw_library(name SOURCES... [LIBS ...]): a static library from the listed sources, or from
# every .c file of the current directory when no SOURCES are given.
function(igw_library name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT A_SOURCES)
    file(GLOB A_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  endif()
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                             PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${IGW_WARN_FLAGS})
  target_compile_definitions(${name} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
  target_link_libraries(${name} PUBLIC ${A_LIBS})
endfunction()

# igw_test_exe(name SOURCE LIBS...): a unit test run by ctest with a timeout.
function(igw_test_exe name src)
  add_executable(${name} ${src})
  target_compile_options(${name} PRIVATE ${IGW_WARN_FLAGS})
  target_compile_definitions(${name} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests
                             ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/gateway)
  target_link_libraries(${name} PRIVATE ${ARGN})
endfunction()
