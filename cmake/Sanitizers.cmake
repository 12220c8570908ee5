# -DCRUNLITE_SANITIZE=ON: everything (the runtime, its core library and the unit tests) built with
# AddressSanitizer (LeakSanitizer included) and UndefinedBehaviorSanitizer, every UB report fatal.
# tests/CMakeLists.txt then registers only the unit and integration tests, labelled "sanitize",
# with ASAN_OPTIONS/UBSAN_OPTIONS set (.ci/run's second stage: `ctest --test-dir build-asan -L sanitize`).
option(CRUNLITE_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(CRUNLITE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
