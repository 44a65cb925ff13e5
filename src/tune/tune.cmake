# The tuning engine (src/tune): included from src/CMakeLists.txt so its build settings live
# beside its code. plinth_library() globs src/tune/*.cc; the tests read the golden values that
# tests/golden/tune/make_golden.py records from Optuna.
plinth_library(plinth_tune tune)
target_link_libraries(plinth_tune PUBLIC plinth_core PRIVATE Eigen3::Eigen)
target_compile_definitions(plinth_tune_test
                           PRIVATE PLINTH_TUNE_GOLDEN_DIR="${CMAKE_SOURCE_DIR}/tests/golden/tune")
# The Parzen estimator's log-density loops (kernels × candidates) are the TPE sampler's hot
# path: let GCC vectorize them where it costs a remainder loop, as -O3 would; elementwise
# vector arithmetic gives the same bits as scalar code. No contraction into FMA, so that the
# AVX2 builds of those loops (target_clones) give the bits of the baseline ones too.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  set_source_files_properties(
    ${CMAKE_CURRENT_SOURCE_DIR}/tune/parzen_estimator.cc
    PROPERTIES COMPILE_OPTIONS "-ftree-vectorize;-fvect-cost-model=dynamic;-ffp-contract=off")
endif()
