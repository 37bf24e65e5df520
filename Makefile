# SPDX-License-Identifier: Apache-2.0
# The two set-up commands: `make run` and `make test`. Everything else is for developers.
BUILD ?= build
JOBS ?= $(shell nproc)
CONFIG ?= deploy/igw.example.conf
CMAKE_FLAGS ?=

.PHONY: all deps build run demo-fhir demo-dci demo-pay cluster test chaos bench bench-compare asan tsan ubsan fuzz fuzz-long \
        format format-check lint clean install

all: build

deps:
	@.ci/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@mkdir -p var
	./$(BUILD)/cli/igw serve --config $(CONFIG)

# igw as a FHIR server in front of the openIMIS simulator (deploy/examples/fhir-facade.yaml):
# FHIR base http://127.0.0.1:7400/fhir, bearer token demo-token; Ctrl-C stops everything.
demo-fhir: build
	deploy/examples/demo-fhir.sh $(BUILD)

# igw as openIMIS's DCI social registry (deploy/examples/dci-registry.yaml): base
# http://127.0.0.1:7400/dci/social/, SP-MIS endpoints /dci/spmis/, token demo-token.
demo-dci: build
	deploy/examples/demo-dci.sh $(BUILD)

# igw between openIMIS's payroll and a G2P Connect payment system (deploy/examples/payments.yaml):
# openIMIS and payment system simulators, a demo payroll POSTed; admin http://127.0.0.1:7411.
demo-pay: build
	deploy/examples/demo-pay.sh $(BUILD)

test:
	@.ci/deps.sh test
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The JetStream cluster tests alone (both are in `make test` too; SKIP without nats-server):
# it.cluster (label cluster: 3 nats-server nodes, 2 igw instances, kill -9 and a cut node) and
# it.cluster_full (a full stream).
cluster:
	@.ci/deps.sh test
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest --output-on-failure -R '^it\.cluster'

# The long forms of the tests that have one (ctest label "chaos": the crash loop, queue-full
# recovery, connection floods): IGW_CHAOS=1 makes them run their long form. Their knobs
# (IGW_CHAOS_ROUNDS, IGW_CHAOS_CLIENTS, ...) pass through the environment.
chaos:
	@.ci/deps.sh test
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && IGW_CHAOS=1 ctest --output-on-failure -L chaos

# Sanitizer builds: the whole suite under ASan+UBSan (fails on any report).
asan:
	@.ci/deps.sh test
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DIGW_SANITIZER=address,undefined >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) -LE cluster

# The whole suite under ThreadSanitizer (fails on any report). Suppressions, one reason per
# line, in tests/tsan.supp.
tsan:
	@.ci/deps.sh test
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DIGW_SANITIZER=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --output-on-failure -j $(JOBS) -LE cluster

# libFuzzer targets, each run briefly on its seed corpus.
fuzz:
	@.ci/deps.sh test
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DIGW_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	cd build-fuzz && ctest --output-on-failure -R '^fuzz\.'

# Every fuzz target to 10 million executions (RUNS) or SECONDS_PER_TARGET (default 1800) if it
# is slower, one after the other; prints a table of the figures (docs/PERFORMANCE.md, Fuzzing).
fuzz-long:
	@.ci/deps.sh test
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DIGW_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	tests/fuzz/long.sh build-fuzz

bench:
	@.ci/deps.sh bench
	@$(MAKE) --no-print-directory build
	tests/bench/run.sh $(BUILD)

# Before/after: builds OLD (a commit, default HEAD~1) beside this tree and runs the ingest and map
# benchmarks for both in one run, interleaved, printing both sets of figures and new/old ratios.
OLD ?= HEAD~1
bench-compare:
	@.ci/deps.sh bench
	tests/bench/compare.sh $(OLD) $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

# Banned functions (STYLE.md rule 13): raw allocation and unsafe string calls.
lint:
	@! git grep -nE '\b(malloc|calloc|realloc|free|sprintf|strcpy|strcat|strtok|atoi|gets)\(' \
	  -- '*.c' ':!common/alloc.c' ':!tests/' | grep -vE 'igw_(malloc|calloc|realloc|free)|NOLINT|xmlFree|cJSON_free|nng_free|curl_free|mdb_' \
	  || (echo "banned function used (see docs/CODE_STYLE.md)"; exit 1)
	@python3 tests/tools/check_deps.py
	@tests/tools/check_size.sh

# Installs the binary, unit, sysusers.d entry, config and docs (docs/OPERATIONS.md).
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf build build-asan build-tsan build-fuzz
