# minidl build. `make` builds the library and the tools; `make test` builds and runs the suite;
# `make demo` trains the demo model; `make bench` compares with PyTorch; `make install PREFIX=...`.
# Missing Debian packages are installed by tools/install_deps.sh on first use.

CXX      ?= g++
BUILD    ?= build
PREFIX   ?= /usr/local
JOBS     ?= 2
MAKEFLAGS += -j$(JOBS)

# Recursively expanded (=): pkg-config runs only after the dependency step has installed it.
BLAS_CFLAGS = $(shell pkg-config --cflags openblas)
BLAS_LIBS   = $(shell pkg-config --libs openblas)

CXXFLAGS_BASE = -std=c++17 -fopenmp -Wall -Wextra -Werror -I. -MMD -MP
CXXFLAGS ?= -O3 -march=native
TEST_CXXFLAGS ?= -O2 -march=native
TEST_DEFS = -DMINIDL_FIXTURE_DIR=\"$(CURDIR)/tests/fixtures\"
LDLIBS = $(BLAS_LIBS) -fopenmp -lz -lpng -lpthread

LIB_SRCS  := $(wildcard core/*.cpp ops/*.cpp nn/*.cpp nn/attention/*.cpp models/*.cpp models/*/*.cpp)
LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/%.o)
TEST_SRCS := $(wildcard tests/*.cpp)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/%.o)
TOOLS     := bench demo train predict debian_graph
TOOL_BINS := $(TOOLS:%=$(BUILD)/%)
LIB       := $(BUILD)/libminidl.a
DEPS_STAMP := $(BUILD)/.deps-installed

.PHONY: all lib test demo bench install uninstall clean format deps FORCE
all: lib $(TOOL_BINS)
lib: $(LIB)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): tools/install_deps.sh
	@mkdir -p $(BUILD)
	@tools/install_deps.sh
	@touch $@

$(BUILD)/%.o: %.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_BASE) $(CXXFLAGS) $(BLAS_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_BASE) $(TEST_CXXFLAGS) $(TEST_DEFS) $(BLAS_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%: $(BUILD)/tools/%.o $(LIB)
	$(CXX) $(CXXFLAGS) -fopenmp $< $(LIB) $(LDLIBS) -o $@

# bench: the runner (child processes, PyTorch, the table) and the workloads it times.
BENCH_OBJS := $(BUILD)/tools/bench.o $(BUILD)/tools/bench_workloads.o $(BUILD)/tools/bench_attention.o $(BUILD)/tools/bench_models.o
$(BUILD)/bench: $(BENCH_OBJS) $(LIB)
	$(CXX) $(CXXFLAGS) -fopenmp $(filter %.o,$^) $(LIB) $(LDLIBS) -o $@

# The list of test sources is a prerequisite too (rewritten only when it changes), so a build
# with another TEST_SRCS relinks even when every object is older than the binary.
TEST_LIST := $(BUILD)/tests/sources.txt
$(TEST_LIST): FORCE
	@mkdir -p $(dir $@)
	@echo '$(TEST_SRCS)' | cmp -s - $@ || echo '$(TEST_SRCS)' > $@
FORCE:

$(BUILD)/minidl_tests: $(TEST_OBJS) $(LIB) $(TEST_LIST)
	$(CXX) $(TEST_CXXFLAGS) -fopenmp $(TEST_OBJS) $(LIB) $(LDLIBS) -o $@

# The whole suite (Catch2; one case installs the library and builds a program against it, one
# runs build/bench). The tools are built too: the README's next steps use them.
test: $(BUILD)/minidl_tests $(TOOL_BINS)
	MINIDL_BUILD_DIR=$(BUILD) OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(BUILD)/minidl_tests $(TEST_ARGS)

demo: $(TOOL_BINS)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(BUILD)/demo

bench: $(BUILD)/bench
	@tools/install_deps.sh --torch
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(BUILD)/bench $(BENCH_ARGS)

HEADERS := minidl.h $(wildcard core/*.h ops/*.h nn/*.h nn/attention/*.h models/*.h models/*/*.h)
install: $(LIB)
	@for h in $(HEADERS); do install -D -m 644 $$h $(DESTDIR)$(PREFIX)/include/minidl/$$h; done
	install -D -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libminidl.a
	@mkdir -p $(DESTDIR)$(PREFIX)/lib/pkgconfig
	sed -e 's|@PREFIX@|$(PREFIX)|' tools/minidl.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/minidl.pc

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/minidl $(DESTDIR)$(PREFIX)/lib/libminidl.a \
	       $(DESTDIR)$(PREFIX)/lib/pkgconfig/minidl.pc

format:
	clang-format -i $(wildcard *.h core/*.h core/*.cpp ops/*.h ops/*.cpp nn/*.h nn/*.cpp \
	  nn/attention/*.h nn/attention/*.cpp models/*.h models/*.cpp models/*/*.h models/*/*.cpp \
	  tests/*.cpp tests/*.h tools/*.cpp tools/*.h)

clean:
	rm -rf $(BUILD)

.SECONDARY: $(TOOLS:%=$(BUILD)/tools/%.o) $(BENCH_OBJS)
-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(BENCH_OBJS:.o=.d) $(TOOLS:%=$(BUILD)/tools/%.d)
