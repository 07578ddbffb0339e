// Every model of the tutorials, by name: what `tools/train --list` shows and `--model NAME` picks.
// The list is written out in models/registry.cpp (explicit, so a static library keeps every
// model, and a reader sees them all in one place).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/common/task.h"

namespace minidl::models {

// One registered model: its name, provenance and factory.
struct TaskInfo {
  std::string name;      // "bahdanau-dates"
  std::string tutorial;  // the tutorial model it realizes
  std::string dataset;   // where its data comes from
  std::function<std::unique_ptr<Task>()> make;
};

// Every registered task, in the order tools/train --list prints them.
const std::vector<TaskInfo>& registered_tasks();
// The registered names, in the registry's order.
std::vector<std::string> task_names();
// The entry of this name; an error listing the known names if there is none.
const TaskInfo& find_task(const std::string& name);
// The task of this name; an error listing the known names if there is none.
std::unique_ptr<Task> make_task(const std::string& name);

}  // namespace minidl::models
