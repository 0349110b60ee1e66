# The actormq command-line tool (producer, consumer, browse, dstat, purge), after ActiveMQ's
# `activemq` tasks. Included from tools/CMakeLists.txt.
add_executable(actormq ${CMAKE_CURRENT_LIST_DIR}/actormq.cpp)
target_link_libraries(actormq PRIVATE actormq_client CLI11::CLI11 actormq_warnings)
