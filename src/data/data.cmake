# The data engine (src/data): tables, the CSV reader, profiles, validation suites and the
# drift report built on src/drift. Included from src/CMakeLists.txt; plinth_library() globs
# src/data/*.cc.
plinth_library(plinth_data data)
# dataset_service.cc (dataset versions) uses the store and artifact seams.
target_link_libraries(plinth_data PUBLIC plinth_core plinth_drift plinth_store plinth_artifacts
                      PRIVATE PkgConfig::YAML_CPP nlohmann_json::nlohmann_json)
if(TARGET plinth_data_test)
  target_link_libraries(plinth_data_test PRIVATE nlohmann_json::nlohmann_json)
endif()
