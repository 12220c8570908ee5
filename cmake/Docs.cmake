# Man pages, docs/cli.md and the bash completion, written at build time by the built binary
# (`crun-lite __docs DIR`) from its own command-line definitions in src/cli: no second copy of the
# help to keep in step. `cmake --build build --target update-docs` refreshes the committed
# docs/cli.md; the docs.generated test fails while it is stale.
include(GNUInstallDirs)
option(CRUNLITE_GZIP_MAN "install the man pages gzipped" ON)
set(CRUNLITE_DOCS_DIR ${CMAKE_BINARY_DIR}/docs)
set(gzip_pages true)
if(CRUNLITE_GZIP_MAN)
  set(gzip_pages sh -c "gzip -9nkf man8/*.8")
endif()
add_custom_command(OUTPUT ${CRUNLITE_DOCS_DIR}/stamp
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${CRUNLITE_DOCS_DIR}/man8
  COMMAND crun-lite __docs ${CRUNLITE_DOCS_DIR}
  COMMAND ${gzip_pages}
  COMMAND ${CMAKE_COMMAND} -E touch ${CRUNLITE_DOCS_DIR}/stamp
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/docs
  DEPENDS crun-lite
  COMMENT "Writing the man pages, cli.md and the bash completion from crun-lite's command line"
  VERBATIM)
file(MAKE_DIRECTORY ${CRUNLITE_DOCS_DIR})
add_custom_target(docs ALL DEPENDS ${CRUNLITE_DOCS_DIR}/stamp)
add_custom_target(update-docs
  COMMAND ${CMAKE_COMMAND} -E copy ${CRUNLITE_DOCS_DIR}/cli.md ${CMAKE_SOURCE_DIR}/docs/cli.md
  DEPENDS docs VERBATIM)

set(page_pattern "*.8")
if(CRUNLITE_GZIP_MAN)
  set(page_pattern "*.8.gz")
endif()
install(DIRECTORY ${CRUNLITE_DOCS_DIR}/man8/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 FILES_MATCHING PATTERN ${page_pattern})
install(FILES ${CRUNLITE_DOCS_DIR}/bash-completion/crun-lite
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
