// Zachary's karate club as written in models/data/karate_club.h: 78 friendships, the degrees of
// the instructor (0) and the officer (33), the two factions of 17 members each.
#include <set>

#include "models/data/karate_club.h"
#include "tests/test_util.h"

using namespace minidl::models;

TEST_CASE("karate club: 78 edges, degrees 16 and 17 for members 0 and 33, factions", "[graph]") {
  const auto& edges = karate_club_edges();
  REQUIRE(edges.size() == 78);
  std::set<std::pair<int64_t, int64_t>> unique(edges.begin(), edges.end());
  CHECK(unique.size() == 78);
  std::vector<int64_t> degree(kKarateMembers, 0);
  for (const auto& [a, b] : edges) {
    CHECK(a < b);
    CHECK(b < kKarateMembers);
    ++degree[a], ++degree[b];
  }
  CHECK(degree[0] == 16);
  CHECK(degree[33] == 17);
  CHECK(degree[32] == 12);
  CHECK(*std::min_element(degree.begin(), degree.end()) == 1);  // member 11 knows only 0
  const auto& factions = karate_club_factions();
  CHECK(factions[0] == 0);
  CHECK(factions[33] == 1);
  CHECK(std::count(factions.begin(), factions.end(), 0) == 17);
  CHECK(karate_club_faction_names() == std::vector<std::string>{"Mr. Hi", "Officer"});
}
