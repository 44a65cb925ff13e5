# The data engine (src/data): tables, the CSV reader, profiles, validation suites and the
# drift report built on src/drift. Included from src/CMakeLists.txt; plinth_library() globs
# src/data/*.cc.
plinth_library(plinth_data data)
target_link_libraries(plinth_data PUBLIC plinth_core plinth_drift
                      PRIVATE PkgConfig::YAML_CPP nlohmann_json::nlohmann_json)
if(TARGET plinth_data_test)
  target_link_libraries(plinth_data_test PRIVATE nlohmann_json::nlohmann_json)
endif()
