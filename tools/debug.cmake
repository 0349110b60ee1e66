# actormq-debug: attaches to a node's front door (cluster port) and prints its actors and their
# state (docs/console.md). Included from tools/CMakeLists.txt.
add_executable(actormq-debug ${CMAKE_CURRENT_LIST_DIR}/actormq_debug.cpp)
target_link_libraries(actormq-debug PRIVATE actormq_actors CLI11::CLI11 actormq_warnings)
