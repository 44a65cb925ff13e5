# The Python SDK's native module (python/): pybind11 glue over the C++ engines, built as
# build/python/plinth/_native*.so beside a copy of the pure-Python package, so
# `PYTHONPATH=build/python` imports `plinth` in tests. `pip install ./python` builds the same
# target through scikit-build-core (python/pyproject.toml). Included from the top-level
# CMakeLists.txt when Python's headers and pybind11 are found.
set(plinth_python_libs plinth_core plinth_tune plinth_drift plinth_data)
# Static libraries linked into a shared module must be position-independent.
set_target_properties(${plinth_python_libs} PROPERTIES POSITION_INDEPENDENT_CODE ON)

file(GLOB plinth_python_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/python/src/*.cc)
pybind11_add_module(plinth_native MODULE ${plinth_python_sources})
set_target_properties(plinth_native PROPERTIES OUTPUT_NAME _native
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/python/plinth)
target_link_libraries(plinth_native PRIVATE ${plinth_python_libs})
target_compile_options(plinth_native PRIVATE ${PLINTH_WARNINGS})

file(GLOB plinth_python_package CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/python/plinth/*.py)
# Copied on every build (copy_if_different is cheap), so an edited .py file is picked up
# without relinking the module.
add_custom_target(plinth_python_package ALL
                  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/python/plinth
                  COMMAND ${CMAKE_COMMAND} -E copy_if_different ${plinth_python_package}
                          ${CMAKE_BINARY_DIR}/python/plinth/
                  COMMENT "Copying the plinth Python package beside _native")
add_dependencies(plinth_native plinth_python_package)
install(TARGETS plinth_native LIBRARY DESTINATION plinth COMPONENT python)
