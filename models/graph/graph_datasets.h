// The graphs of the node-classification models as NodeGraphs (models/graph/node_classifier.h).
#pragma once

#include <string>

#include "models/data/debian_graph.h"
#include "models/graph/node_classifier.h"

namespace minidl::models {

// Zachary's karate club (models/data/karate_club.h): nodes "0".."33", identity features [34, 34]
// (each member is only itself), labels the two factions.
NodeGraph karate_club_graph();

// The Debian package graph: binary bag-of-words features, row-normalised (each package's words
// sum to 1, as pyGAT normalises Cora's), labels the sections.
NodeGraph debian_package_graph(const DebianGraph& graph);

}  // namespace minidl::models
