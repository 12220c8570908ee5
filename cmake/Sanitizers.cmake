# -DCRUNLITE_SANITIZE=ON: everything (the runtime, its core library and the unit tests) built with
# AddressSanitizer (LeakSanitizer included) and UndefinedBehaviorSanitizer, every UB report fatal.
# tests/CMakeLists.txt then registers only the unit and integration tests, labelled "sanitize",
# with ASAN_OPTIONS/UBSAN_OPTIONS set (.ci/run's second stage: `ctest --test-dir build-asan -L sanitize`).
option(CRUNLITE_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(CRUNLITE_SANITIZE)
  # -O1, as the sanitizers' authors advise: at -O0 every inline template of nlohmann-json and
  # CLI11 stays a function of its own, with its checks' metadata (some 50 MB), which each start
  # of a process pays for in page faults.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1)
  # Line tables only (-g1, after the build type's -g, so it wins): a report's stack names each
  # frame's function, file and line, which is all it needs; full debug info of the templates made
  # this build a quarter slower (CI's 60 minutes).
  add_compile_options(-g1)
  add_link_options(-fsanitize=address,undefined)
  # Not position-independent: the instrumented build carries about two million relative
  # relocations (the sanitizers' per-check descriptors), which the dynamic loader would apply at
  # every start, about 0.4 s a process here, twice per container (the sealed re-exec). A fixed
  # address needs none, and the integration suite starts thousands of processes.
  add_compile_options(-fno-pie)
  add_link_options(-no-pie)
endif()
