# minidl build. `make` builds the library and the tools; `make test` builds and runs the suite;
# `make demo` trains the demo model; `make bench` compares with PyTorch; `make install PREFIX=...`;
# `make examples` builds the teaching programs of docs/examples/ (part of `make` too).
# Missing Debian packages are installed by tools/install_deps.sh on first use.

CXX      ?= g++
BUILD    ?= build
PREFIX   ?= /usr/local
JOBS     ?= 2
MAKEFLAGS += -j$(JOBS)

# Recursively expanded (=): pkg-config runs only after the dependency step has installed it.
BLAS_CFLAGS = $(shell pkg-config --cflags openblas)
BLAS_LIBS   = $(shell pkg-config --libs openblas)

# OPENMP: clang builds (make fuzz) use -fopenmp=libgomp, the runtime OpenBLAS already loads.
OPENMP   ?= -fopenmp
WERROR   ?= -Werror
CXXFLAGS_BASE = -std=c++17 $(OPENMP) -Wall -Wextra $(WERROR) -I. -MMD -MP
CXXFLAGS ?= -O3 -march=native
TEST_CXXFLAGS ?= -O2 -march=native
TEST_DEFS = -DMINIDL_FIXTURE_DIR=\"$(CURDIR)/tests/fixtures\"
LDLIBS = $(BLAS_LIBS) $(OPENMP) -lz -lpng -lpthread $(MPI_LIBS)

LIB_SRCS  := $(wildcard core/*.cpp ops/*.cpp nn/*.cpp nn/attention/*.cpp nn/data/*.cpp \
               nn/data/datasets/*.cpp nn/distributed/*.cpp models/*.cpp models/*/*.cpp)
LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/%.o)
TEST_SRCS := $(wildcard tests/*.cpp)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/%.o)
TOOLS     := bench bench_distributed demo train predict debian_graph derivatives inspect
TOOL_BINS := $(TOOLS:%=$(BUILD)/%)
LIB       := $(BUILD)/libminidl.a
# docs/examples/NAME.cpp -> $(BUILD)/examples/NAME: short teaching programs, each one idea, each
# checking its own claims (tests/test_examples.cpp runs them all).
EXAMPLE_SRCS := $(wildcard docs/examples/*.cpp)
EXAMPLES     := $(EXAMPLE_SRCS:docs/examples/%.cpp=%)
EXAMPLE_BINS := $(EXAMPLES:%=$(BUILD)/examples/%)
EXAMPLE_OBJS := $(EXAMPLE_SRCS:%.cpp=$(BUILD)/%.o)
DEPS_STAMP := $(BUILD)/.deps-installed

# ---- MPI (minidl::distributed, nn/distributed/): on when Open MPI's mpicxx is on PATH
# (tools/install_deps.sh --mpi installs it), or with `make MPI=1`; `make MPI=0` turns it off. With
# it nn/distributed/ compiles with Open MPI's flags (mpicxx --showme:compile) and
# -DMINIDL_WITH_MPI, everything links with --showme:link, `make install` writes a minidl.pc that
# requires ompi-c, and tests/distributed/NAME.cpp -> $(BUILD)/distributed/NAME (the programs the
# [mpi] tests run under mpirun) are built. Without it the API is the same on a world of one. Only
# nn/distributed/ sees mpi.h, so switching MPI in one build directory recompiles only those
# objects (the mode file below) and relinks.
MPI ?= $(if $(shell command -v mpicxx),1,0)
ifeq ($(MPI),1)
  ifeq ($(shell command -v mpicxx),)
    $(error MPI=1 needs Open MPI's mpicxx: run tools/install_deps.sh --mpi)
  endif
  # (the C API only: the deprecated C++ bindings do not compile warning-free)
  MPI_CFLAGS := $(shell mpicxx --showme:compile) -DMINIDL_WITH_MPI -DOMPI_SKIP_MPICXX -DMPICH_SKIP_MPICXX
  MPI_LIBS   := $(filter-out -lmpi_cxx,$(shell mpicxx --showme:link))
  DIST_SRCS  := $(wildcard tests/distributed/*.cpp)
endif
DIST_BINS := $(DIST_SRCS:tests/distributed/%.cpp=$(BUILD)/distributed/%)
DIST_OBJS := $(DIST_SRCS:%.cpp=$(BUILD)/%.o)
MPI_MODE  := $(BUILD)/nn/distributed/mpi-mode.txt

.PHONY: all lib test demo bench install uninstall clean format deps FORCE test-sanitize fuzz \
        examples
all: lib $(TOOL_BINS) $(EXAMPLE_BINS)
lib: $(LIB)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): tools/install_deps.sh
	@mkdir -p $(BUILD)
	@tools/install_deps.sh
	@touch $@

$(BUILD)/%.o: %.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_BASE) $(CXXFLAGS) $(BLAS_CFLAGS) -c $< -o $@

# nn/distributed/ alone is compiled with MPI's flags (when MPI=1), and again when MPI changes.
$(MPI_MODE): FORCE
	@mkdir -p $(dir $@)
	@echo 'MPI=$(MPI) $(MPI_CFLAGS)' | cmp -s - $@ || echo 'MPI=$(MPI) $(MPI_CFLAGS)' > $@
$(BUILD)/nn/distributed/%.o: nn/distributed/%.cpp $(MPI_MODE) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_BASE) $(CXXFLAGS) $(BLAS_CFLAGS) $(MPI_CFLAGS) -c $< -o $@

# The programs tests/test_distributed.cpp runs under mpirun (MPI=1 only).
$(BUILD)/distributed/%: $(BUILD)/tests/distributed/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/%.o: tests/%.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_BASE) $(TEST_CXXFLAGS) $(TEST_DEFS) $(BLAS_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%: $(BUILD)/tools/%.o $(LIB)
	$(CXX) $(CXXFLAGS) $< $(LIB) $(LDLIBS) -o $@

# Each example links the library as the tools do (its object comes from the $(BUILD)/%.o rule).
examples: $(EXAMPLE_BINS)
$(BUILD)/examples/%: $(BUILD)/docs/examples/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $< $(LIB) $(LDLIBS) -o $@

# bench: the runner (child processes, PyTorch, the table) and the workloads it times.
BENCH_OBJS := $(BUILD)/tools/bench.o $(BUILD)/tools/bench_workloads.o $(BUILD)/tools/bench_attention.o $(BUILD)/tools/bench_models.o $(BUILD)/tools/bench_process.o
$(BUILD)/bench: $(BENCH_OBJS) $(LIB)
	$(CXX) $(CXXFLAGS) $(filter %.o,$^) $(LIB) $(LDLIBS) -o $@
# bench_distributed: its runner, its workers (under mpirun), the alpha/beta fit and scaling model,
# with the machine measurements bench uses too.
BENCH_DISTRIBUTED_OBJS := $(BUILD)/tools/bench_distributed.o $(BUILD)/tools/bench_distributed_workers.o $(BUILD)/tools/bench_distributed_scaling.o $(BUILD)/tools/bench_process.o
$(BUILD)/bench_distributed: $(BENCH_DISTRIBUTED_OBJS) $(LIB)
	$(CXX) $(CXXFLAGS) $(filter %.o,$^) $(LIB) $(LDLIBS) -o $@

# The list of test sources is a prerequisite too (rewritten only when it changes), so a build
# with another TEST_SRCS relinks even when every object is older than the binary.
TEST_LIST := $(BUILD)/tests/sources.txt
$(TEST_LIST): FORCE
	@mkdir -p $(dir $@)
	@echo '$(TEST_SRCS)' | cmp -s - $@ || echo '$(TEST_SRCS)' > $@
FORCE:

$(BUILD)/minidl_tests: $(TEST_OBJS) $(LIB) $(TEST_LIST)
	$(CXX) $(TEST_CXXFLAGS) $(TEST_OBJS) $(LIB) $(LDLIBS) -o $@

# The whole suite (Catch2; one case installs the library and builds a program against it, one
# runs build/bench). The tools are built too: the README's next steps use them; so are the
# examples, which the suite runs.
test: $(BUILD)/minidl_tests $(TOOL_BINS) $(EXAMPLE_BINS) $(DIST_BINS)
	MINIDL_BUILD_DIR=$(BUILD) OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(BUILD)/minidl_tests $(TEST_ARGS)

demo: $(TOOL_BINS)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(BUILD)/demo

bench: $(BUILD)/bench
	@tools/install_deps.sh --torch
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(BUILD)/bench $(BENCH_ARGS)

HEADERS := minidl.h $(wildcard core/*.h ops/*.h nn/*.h nn/functional/*.h nn/attention/*.h \
                               nn/data/*.h nn/data/datasets/*.h nn/distributed/*.h models/*.h \
                               models/*/*.h)
# libtorch's <torch/torch.h> over minidl, for `pkg-config minidl-torch` (its own include folder, so
# plain minidl users never see a torch/ directory).
TORCH_HEADERS := $(wildcard compat/torch/*.h)
install: $(LIB)
	@for h in $(HEADERS); do install -D -m 644 $$h $(DESTDIR)$(PREFIX)/include/minidl/$$h; done
	install -D -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libminidl.a
	@mkdir -p $(DESTDIR)$(PREFIX)/lib/pkgconfig
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@MPI_REQUIRES@|$(if $(filter 1,$(MPI)), ompi-c,)|' \
	  tools/minidl.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/minidl.pc
	@for h in $(TORCH_HEADERS); do \
	  install -D -m 644 $$h $(DESTDIR)$(PREFIX)/include/minidl-torch/$${h#compat/}; done
	sed -e 's|@PREFIX@|$(PREFIX)|' tools/minidl-torch.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/minidl-torch.pc

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/minidl $(DESTDIR)$(PREFIX)/lib/libminidl.a \
	       $(DESTDIR)$(PREFIX)/lib/pkgconfig/minidl.pc $(DESTDIR)$(PREFIX)/include/minidl-torch \
	       $(DESTDIR)$(PREFIX)/lib/pkgconfig/minidl-torch.pc

# ---- sanitizers: the whole suite (but the install and benchmark cases, which build with the
# ordinary compiler) under AddressSanitizer + UndefinedBehaviorSanitizer -- every report is an
# error, leaks included -- then again under ThreadSanitizer, each in its own build directory with
# its own build/train, build/predict, build/derivatives, build/inspect and build/examples (the
# tool and example tests run them); then one training smoke run under Valgrind's memcheck. Nothing is
# suppressed. These builds leave MPI out (MPI=0): they check minidl's own code, including the
# world-of-one path of nn/distributed/, which the ordinary build skips when it has Open MPI.
# allocator_may_return_null makes a refused huge allocation return null as glibc's does (the
# suite checks that minidl then raises an error), instead of the sanitizer aborting first.
# WERROR is off in these builds: GCC's flow analysis under -fsanitize warns falsely inside
# libstdc++ (<regex>'s std::function "maybe uninitialized"), and the ordinary -Werror build holds
# minidl's own code to zero warnings.
SANITIZE_FLAGS := -O1 -g -fno-omit-frame-pointer -march=native
ASAN_FLAGS := $(SANITIZE_FLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all
TSAN_FLAGS := $(SANITIZE_FLAGS) -fsanitize=thread
# Valgrind 3.19 decodes AVX2 but not AVX-512, so its build targets x86-64-v3, not this CPU.
# Only definite leaks are errors: the thread pool's workers live until exit by design, and their
# stacks are reported as "possibly lost".
VALGRIND_FLAGS := -O2 -g -march=x86-64-v3
SANITIZE_TESTS := "~[install]~[bench]"
# ThreadSanitizer also leaves out [interrupt]: build/train killed at random points and by Ctrl-C
# (checkpoint atomicity: files and signals, one training thread at a time) took 5 minutes of
# TSan's run re-running its instrumented build/train dozens of times; both run in the ordinary
# and ASan suites.
TSAN_TESTS := "~[install]~[bench]~[interrupt]"
test-sanitize: $(DEPS_STAMP)
	@tools/install_deps.sh --fuzz
	$(MAKE) BUILD=$(BUILD)/asan MPI=0 CXXFLAGS="$(ASAN_FLAGS)" TEST_CXXFLAGS="$(ASAN_FLAGS)" WERROR= \
	  $(BUILD)/asan/minidl_tests $(BUILD)/asan/train $(BUILD)/asan/predict $(BUILD)/asan/derivatives \
	  $(BUILD)/asan/inspect \
	  $(EXAMPLES:%=$(BUILD)/asan/examples/%)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:allocator_may_return_null=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 OMP_NUM_THREADS=2 \
	  MINIDL_BUILD_DIR=$(BUILD)/asan $(BUILD)/asan/minidl_tests $(SANITIZE_TESTS)
	$(MAKE) BUILD=$(BUILD)/tsan MPI=0 CXXFLAGS="$(TSAN_FLAGS)" TEST_CXXFLAGS="$(TSAN_FLAGS)" WERROR= \
	  $(BUILD)/tsan/minidl_tests $(BUILD)/tsan/train $(BUILD)/tsan/predict $(BUILD)/tsan/derivatives \
	  $(BUILD)/tsan/inspect \
	  $(EXAMPLES:%=$(BUILD)/tsan/examples/%)
	TSAN_OPTIONS=halt_on_error=1:allocator_may_return_null=1 OMP_NUM_THREADS=2 \
	  MINIDL_BUILD_DIR=$(BUILD)/tsan $(BUILD)/tsan/minidl_tests $(TSAN_TESTS)
	$(MAKE) BUILD=$(BUILD)/valgrind MPI=0 CXXFLAGS="$(VALGRIND_FLAGS)" $(BUILD)/valgrind/train
	rm -rf $(BUILD)/valgrind-run
	OMP_NUM_THREADS=2 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	  --show-possibly-lost=no --quiet $(BUILD)/valgrind/train --model bahdanau-dates --smoke \
	  --epochs 1 --max-steps 3 --checkpoint-dir $(BUILD)/valgrind-run --examples 1

# ---- fuzzing: libFuzzer harnesses (tests/fuzz/) built with clang, ASan and UBSan, each run for
# FUZZ_RUNS inputs from the committed seed corpus (tests/fuzz/corpus/NAME; new inputs go to a
# scratch corpus in the build directory). A crash, sanitizer report, exception other than
# minidl::Error, timeout, any single allocation over 32 MB (inputs are at most 4 KB: a reader must
# not trust a size its file cannot back) or a resident size over 1 GB fails the target and leaves
# the input in $(BUILD)/fuzz/ (MINIDL_FUZZ_TRACE=1 ./fuzz_shapes INPUT shows a shapes program).
FUZZERS := safetensors npy idx checkpoint text shapes
FUZZ_RUNS ?= 20000
FUZZ_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_BINS := $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%)
fuzz: $(DEPS_STAMP)
	@tools/install_deps.sh --fuzz
	$(MAKE) BUILD=$(BUILD)/fuzz MPI=0 CXX=clang++ OPENMP=-fopenmp=libgomp WERROR= \
	  CXXFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" $(FUZZ_BINS)
	@for f in $(FUZZERS); do \
	  mkdir -p $(BUILD)/fuzz/corpus-$$f; \
	  (cd $(BUILD)/fuzz && ./fuzz_$$f -runs=$(FUZZ_RUNS) -seed=1 -max_len=4096 -timeout=10 \
	    -rss_limit_mb=1024 -malloc_limit_mb=32 -print_final_stats=1 \
	    corpus-$$f $(CURDIR)/tests/fuzz/corpus/$$f > fuzz_$$f.log 2>&1); status=$$?; \
	  echo "fuzz_$$f: $$(grep -h 'stat::number_of_executed_units' $(BUILD)/fuzz/fuzz_$$f.log)"; \
	  if [ $$status -ne 0 ]; then tail -50 $(BUILD)/fuzz/fuzz_$$f.log; exit 1; fi; \
	done
# (built by the recursive make above, where BUILD is $(BUILD)/fuzz)
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.cpp $(LIB)
	$(CXX) $(CXXFLAGS_BASE) $(CXXFLAGS) -fsanitize=fuzzer $(BLAS_CFLAGS) $< $(LIB) $(LDLIBS) -o $@

format:
	clang-format -i $(wildcard *.h core/*.h core/*.cpp ops/*.h ops/*.cpp nn/*.h nn/*.cpp \
	  nn/functional/*.h nn/attention/*.h nn/attention/*.cpp nn/data/*.h nn/data/*.cpp \
	  nn/data/datasets/*.h nn/data/datasets/*.cpp nn/distributed/*.h nn/distributed/*.cpp \
	  tests/distributed/*.cpp models/*.h models/*.cpp models/*/*.h models/*/*.cpp \
	  tests/*.cpp tests/*.h tests/fuzz/*.cpp tests/fuzz/*.h tests/libtorch/*.cpp tools/*.cpp tools/*.h \
	  compat/torch/*.h docs/examples/*.cpp)

clean:
	rm -rf $(BUILD)

.SECONDARY: $(TOOLS:%=$(BUILD)/tools/%.o) $(BENCH_OBJS) $(BENCH_DISTRIBUTED_OBJS) $(EXAMPLE_OBJS) \
            $(DIST_OBJS)
-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(BENCH_OBJS:.o=.d) $(BENCH_DISTRIBUTED_OBJS:.o=.d) \
         $(TOOLS:%=$(BUILD)/tools/%.d) $(EXAMPLE_OBJS:.o=.d) $(DIST_OBJS:.o=.d)
