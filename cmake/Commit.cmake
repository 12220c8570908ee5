# Writes OUT (a header defining CRUNLITE_COMMIT) from `git rev-parse --short HEAD` in SOURCE_DIR,
# or FALLBACK outside a checkout. Run at every build, so that --version names the commit that
# was built, not the one CMake was configured at; the header is rewritten only when the commit
# changed, so an unchanged one rebuilds nothing.
execute_process(COMMAND git rev-parse --short HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT commit)
  set(commit "${FALLBACK}")
endif()
set(content "#define CRUNLITE_COMMIT \"${commit}\"\n")
set(old "")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL content)
  file(WRITE ${OUT} "${content}")
endif()
