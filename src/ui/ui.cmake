# The web UI (src/ui + ui/): included from src/CMakeLists.txt. At build time the UI is bundled
# (scripts/build-ui.sh: npm ci from ui/package-lock.json, then esbuild) into this build folder
# and compiled into plinth_ui as byte arrays, so the single plinth binary serves it. Without
# node/npm (or with -DPLINTH_BUILD_UI=OFF) the binary serves a page saying how to build it.
option(PLINTH_BUILD_UI "Bundle the web UI with node/npm and embed it in plinth" ON)
find_program(PLINTH_NODE node)
find_program(PLINTH_NPM npm)

set(ui_dist ${CMAKE_CURRENT_BINARY_DIR}/ui/dist)
set(ui_assets_cc ${CMAKE_CURRENT_BINARY_DIR}/ui/ui_assets_data.cc)
set(ui_embed ${CMAKE_CURRENT_SOURCE_DIR}/ui/embed_assets.cmake)
if(PLINTH_BUILD_UI AND PLINTH_NODE AND PLINTH_NPM)
  file(GLOB_RECURSE ui_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/ui/src/*)
  add_custom_command(
    OUTPUT ${ui_assets_cc}
    COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/build-ui.sh ${ui_dist}
    COMMAND ${CMAKE_COMMAND} -DDIST=${ui_dist} -DOUT=${ui_assets_cc} -P ${ui_embed}
    DEPENDS ${ui_sources} ${CMAKE_SOURCE_DIR}/ui/package.json
            ${CMAKE_SOURCE_DIR}/ui/package-lock.json ${CMAKE_SOURCE_DIR}/ui/build.mjs
            ${CMAKE_SOURCE_DIR}/scripts/build-ui.sh ${ui_embed}
    COMMENT "Bundling the web UI (ui/) and embedding it"
    VERBATIM)
else()
  message(WARNING "plinth: node/npm not found or PLINTH_BUILD_UI=OFF: the binary will serve a "
                  "page saying how to build the web UI (bash scripts/install-deps.sh installs them)")
  add_custom_command(
    OUTPUT ${ui_assets_cc}
    COMMAND ${CMAKE_COMMAND} -DDIST= -DOUT=${ui_assets_cc} -P ${ui_embed}
    DEPENDS ${ui_embed}
    COMMENT "Embedding the web UI placeholder page"
    VERBATIM)
endif()

add_library(plinth_ui STATIC ${CMAKE_CURRENT_SOURCE_DIR}/ui/ui_routes.cc ${ui_assets_cc})
target_include_directories(plinth_ui PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_compile_options(plinth_ui PRIVATE ${PLINTH_WARNINGS})
target_link_libraries(plinth_ui PUBLIC plinth_http)
target_link_libraries(plinth_cli PUBLIC plinth_ui)

add_executable(plinth_ui_test ${CMAKE_CURRENT_SOURCE_DIR}/ui/ui_routes_test.cc)
target_link_libraries(plinth_ui_test PRIVATE plinth_ui GTest::gtest_main GTest::gmock)
target_compile_options(plinth_ui_test PRIVATE ${PLINTH_WARNINGS})
gtest_discover_tests(plinth_ui_test DISCOVERY_TIMEOUT 60)
