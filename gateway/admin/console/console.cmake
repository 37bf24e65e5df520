# SPDX-License-Identifier: Apache-2.0
# The web console's assets, embedded into igw_gateway as a generated C table (embed.cmake).
# Included by gateway/CMakeLists.txt after igw_gateway is defined.
set(IGW_CONSOLE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/admin/console)
file(GLOB IGW_CONSOLE_ASSETS CONFIGURE_DEPENDS ${IGW_CONSOLE_DIR}/assets/*)
set(IGW_CONSOLE_C ${CMAKE_CURRENT_BINARY_DIR}/console_assets.c)
add_custom_command(OUTPUT ${IGW_CONSOLE_C}
  COMMAND ${CMAKE_COMMAND} -DASSETS=${IGW_CONSOLE_DIR}/assets -DOUT=${IGW_CONSOLE_C}
          -P ${IGW_CONSOLE_DIR}/embed.cmake
  DEPENDS ${IGW_CONSOLE_ASSETS} ${IGW_CONSOLE_DIR}/embed.cmake
  COMMENT "Embedding the web console's assets")
target_sources(igw_gateway PRIVATE ${IGW_CONSOLE_C})
