// Zachary's karate club (W. W. Zachary, "An information flow model for conflict and fission in
// small groups", J. Anthropological Research 33(4), 1977): 34 members, 78 friendships, and the
// two factions the club split into -- Mr. Hi's (the instructor, member 0) and the officer's
// (John A., member 33). The edge list and the faction of each member are written out here, in
// the 0-based numbering of networkx's karate_club_graph() and its `club` attribute.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace minidl::models {

constexpr int64_t kKarateMembers = 34;

// The 78 undirected friendships {a, b}, a < b, in increasing order.
const std::vector<std::pair<int64_t, int64_t>>& karate_club_edges();

// The faction of every member: 0 = "Mr. Hi", 1 = "Officer" (networkx's club names).
const std::array<int64_t, kKarateMembers>& karate_club_factions();
const std::vector<std::string>& karate_club_faction_names();

}  // namespace minidl::models
