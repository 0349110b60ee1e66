# actormq-chaos-client: the producer and consumer of the chaos suite, which record every send,
# delivery and acknowledgement in a history file (docs/chaos.md). Included from
# tools/CMakeLists.txt.
add_executable(actormq-chaos-client ${CMAKE_CURRENT_LIST_DIR}/chaos/chaos_client.cpp)
target_link_libraries(actormq-chaos-client PRIVATE actormq_client CLI11::CLI11 actormq_warnings)
