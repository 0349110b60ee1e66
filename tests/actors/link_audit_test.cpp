// The in-memory audit of forwarded persistent messages on a topic (actors/link_audit.hpp).
#include "actors/link_audit.hpp"

#include <catch2/catch.hpp>

using namespace actormq::actors;

TEST_CASE("a link sequence is taken once; other links and orders are independent", "[audit]") {
  link_audit audit;
  CHECK(audit.first_time("link:a", 5));
  CHECK_FALSE(audit.first_time("link:a", 5));
  CHECK(audit.first_time("link:b", 5));
  // Out of order within the window: taken once too.
  CHECK(audit.first_time("link:a", 3));
  CHECK_FALSE(audit.first_time("link:a", 3));
  CHECK(audit.producers() == 2);
}

TEST_CASE("below the window a sequence counts as a resend; a forgotten one is new", "[audit]") {
  link_audit audit(10);
  CHECK(audit.first_time("link:a", 100));
  CHECK_FALSE(audit.first_time("link:a", 90));
  CHECK(audit.first_time("link:a", 91));
  audit.forget("link:a", 91);
  CHECK(audit.first_time("link:a", 91));
  CHECK_FALSE(audit.first_time("link:a", 91));
}
