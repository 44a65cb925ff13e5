# Model serving: src/serving holds the model format and the runtimes (MLmodel parsing, XGBoost
# through its C API, the flattened tree evaluator); src/serving/server the `plinth serve` HTTP
# endpoints, hot swap, metrics and the prediction log. Included from src/CMakeLists.txt.
plinth_library(plinth_serving serving)
target_link_libraries(plinth_serving PUBLIC plinth_core
                      PRIVATE PkgConfig::YAML_CPP nlohmann_json::nlohmann_json ${XGBOOST_LIBRARY})
target_include_directories(plinth_serving SYSTEM PRIVATE ${XGBOOST_INCLUDE_DIR})
if(TARGET plinth_serving_test)
  target_compile_definitions(plinth_serving_test
                             PRIVATE PLINTH_SERVING_GOLDEN_DIR="${CMAKE_BINARY_DIR}/serving-golden")
  target_link_libraries(plinth_serving_test PRIVATE nlohmann_json::nlohmann_json)
endif()

plinth_library(plinth_serving_server serving/server)
target_link_libraries(plinth_serving_server PUBLIC plinth_serving plinth_http plinth_artifacts
                      PRIVATE nlohmann_json::nlohmann_json)
target_compile_definitions(plinth_serving_server PRIVATE PLINTH_VERSION="${PROJECT_VERSION}")
if(TARGET plinth_serving_server_test)
  # The server tests write small XGBoost models with serving/test_models.h.
  target_link_libraries(plinth_serving_server_test PRIVATE nlohmann_json::nlohmann_json)
endif()
