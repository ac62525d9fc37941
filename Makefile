# ngx_omadm: OMA DM server as an nginx dynamic module, plus its reference
# backend.  See README.md; `make test` is what CI runs.

SHELL := /bin/bash
.DEFAULT_GOAL := all

# Debian packages needed to build and test everything (add yours here).
DEB_PACKAGES = build-essential nginx-dev nginx-core libexpat1-dev \
               libssl-dev libcmocka-dev libcpp-httplib-dev \
               nlohmann-json3-dev libsqlite3-dev libio-socket-ssl-perl \
               openssl perl pkg-config clang libclang-rt-14-dev \
               libwbxml2-utils libxml-libxml-perl zlib1g-dev \
               chromium chromium-driver sqlite3 \
               postgresql libpq-dev python3-prometheus-client

BUILD      := build
NGX_SRC    := /usr/share/nginx/src
NGX_BUILD  := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_http_omadm_module.so
CORE       := $(BUILD)/libomadm_core.a
BACKEND    := $(BUILD)/omadm-backend

CXX        ?= g++
CXXSTD     := -std=c++17
WARN       := -Wall -Wextra -Werror
CORE_FLAGS := $(CXXSTD) -O2 -g -fPIC -fvisibility=hidden $(WARN) -Iinclude -Isrc
LINK_LIBS  := -lexpat -lcrypto -lz -lstdc++

SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all

CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
HTTPLIB_FLAGS := $(shell pkg-config --cflags --libs cpp-httplib 2>/dev/null)
# libpq (the backend's PostgreSQL store): Debian puts its header in
# /usr/include/postgresql
PQ_CFLAGS     := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
PQ_LIBS       := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)

# src/ in one folder per layer (docs/architecture.md): c_api -> session ->
# auth, codec, backend -> common.  Object files keep the folder.
CORE_SRCS  := $(wildcard src/*/*.cpp)
CORE_OBJS  := $(CORE_SRCS:src/%.cpp=$(BUILD)/obj/%.o)
ASAN_OBJS  := $(CORE_SRCS:src/%.cpp=$(BUILD)/asan/obj/%.o)
ASAN_CORE  := $(BUILD)/asan/libomadm_core.a

UNIT_SRCS  := $(wildcard t/unit/*.c)
# the harness the test files share, compiled once (t/unit/harness/)
HARNESS_SRCS := $(wildcard t/unit/harness/*.c)
HARNESS      := $(BUILD)/unit-harness/libharness.a
ASAN_HARNESS := $(BUILD)/asan/unit-harness/libharness.a
UNIT_BINS  := $(UNIT_SRCS:t/unit/%.c=$(BUILD)/unit/%)
ASAN_BINS  := $(UNIT_SRCS:t/unit/%.c=$(BUILD)/asan/unit/%)

BACKEND_SRCS := $(wildcard backend/*.cpp)
BACKEND_OBJS := $(BACKEND_SRCS:backend/%.cpp=$(BUILD)/backend/%.o)

SIM          := $(BUILD)/omadm-sim
SIM_SRCS     := $(wildcard sim/*.cpp)
SIM_OBJS     := $(SIM_SRCS:sim/%.cpp=$(BUILD)/sim/%.o)

.PHONY: all core module backend unit unit-asan unit-build unit-asan-build \
        test integration deps run stop bench clean

all: $(CORE) $(MODULE) $(BACKEND) $(SIM) $(BUILD)/front.conf.example
core: $(CORE)
module: $(MODULE)
backend: $(BACKEND)


# ---- dependencies ---------------------------------------------------------
# Fast path: nothing to do (and no apt at all) when every package is there.

deps:
	@if dpkg -s $(DEB_PACKAGES) >/dev/null 2>&1; then \
	    echo "deps: all packages installed"; \
	else \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update && apt-get install -y $(DEB_PACKAGES); \
	fi


# ---- C++ core -------------------------------------------------------------

$(BUILD)/obj/%.o: src/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(CORE_FLAGS) -MMD -MP -c $< -o $@

$(CORE): $(CORE_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/asan/obj/%.o: src/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXSTD) -O1 -g -fPIC $(WARN) -Iinclude -Isrc $(SAN_FLAGS) \
	    -MMD -MP -c $< -o $@

$(ASAN_CORE): $(ASAN_OBJS)
	rm -f $@
	ar rcs $@ $^


# ---- nginx module ---------------------------------------------------------
# nginx's configure runs once, and again only when `config` changes.  Its
# Makefile knows nothing about the core archive or the version script, so
# the .so is removed first whenever one of them is newer: nginx relinks it.

NGX_CC_OPT := $(shell dpkg-buildflags --get CFLAGS) \
              $(shell dpkg-buildflags --get CPPFLAGS) -fPIC
NGX_LD_OPT := $(shell dpkg-buildflags --get LDFLAGS) -fPIC

$(NGX_BUILD)/Makefile: config
	mkdir -p $(NGX_BUILD)
	source $(NGX_SRC)/conf_flags && cd $(NGX_SRC) && \
	./configure "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt='$(NGX_CC_OPT)' --with-ld-opt='$(NGX_LD_OPT)' \
	    --builddir=$(CURDIR)/$(NGX_BUILD) \
	    --add-dynamic-module=$(CURDIR) > $(CURDIR)/$(NGX_BUILD)/configure.log
	touch $@

# The glue's C sources and header (as listed in `config`): nginx's Makefile
# recompiles whichever changed, but is only run when one of them did.
NGX_GLUE := ngx_omadm_module.c $(wildcard ngx/*.c ngx/*.h)

$(MODULE): $(NGX_GLUE) include/omadm.h ngx_omadm.map $(CORE) \
           $(NGX_BUILD)/Makefile
	rm -f $(NGX_BUILD)/ngx_http_omadm_module.so
	$(MAKE) -f $(CURDIR)/$(NGX_BUILD)/Makefile -C $(NGX_SRC) modules
	# a new file, renamed into place: a running nginx keeps its mapping
	cp $(NGX_BUILD)/ngx_http_omadm_module.so $@.tmp
	mv -f $@.tmp $@


# ---- reference backend ----------------------------------------------------

# It links the core archive for its base64 decoder.
$(BUILD)/backend/%.o: backend/%.cpp | $(BUILD)/backend
	$(CXX) $(CXXSTD) -O2 -g $(WARN) -Iinclude -Ibackend -Isrc \
	    $(HTTPLIB_FLAGS) $(PQ_CFLAGS) -MMD -MP -c $< -o $@

$(BACKEND): $(BACKEND_OBJS) $(CORE)
	$(CXX) -o $@ $(BACKEND_OBJS) $(CORE) $(HTTPLIB_FLAGS) -lsqlite3 $(PQ_LIBS) \
	    -lexpat -lssl -lcrypto -lz -lpthread


# ---- fleet simulator ------------------------------------------------------
# build/omadm-sim: N devices on one epoll loop (docs/omadm-sim.md).  It
# links the core archive for the SyncML codec and the credential helpers.

.PHONY: sim
sim: $(SIM)

$(BUILD)/sim/%.o: sim/%.cpp | $(BUILD)/sim
	$(CXX) $(CXXSTD) -O2 -g $(WARN) -Iinclude -Isrc -Isim $(HTTPLIB_FLAGS) \
	    -MMD -MP -c $< -o $@

$(SIM): $(SIM_OBJS) $(CORE)
	$(CXX) -o $@ $(SIM_OBJS) $(CORE) $(HTTPLIB_FLAGS) -lexpat -lssl \
	    -lcrypto -lz -lpthread

$(BUILD)/sim:
	mkdir -p $@

-include $(SIM_OBJS:.o=.d)


# ---- unit tests (cmocka, run through prove) -------------------------------
# One binary per t/unit/*.c; CMOCKA_MESSAGE_OUTPUT=TAP makes each one a TAP
# producer, and `--exec ''` makes prove run them directly.

UNIT_CFLAGS := -std=c11 -O1 -g $(WARN) -Iinclude -It/unit/harness \
               $(CMOCKA_CFLAGS)
PROVE_BIN   := CMOCKA_MESSAGE_OUTPUT=TAP prove -v --exec ''

$(BUILD)/unit-harness/%.o: t/unit/harness/%.c
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/unit-harness/%.o: t/unit/harness/%.c
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $(SAN_FLAGS) -MMD -MP -c $< -o $@

$(HARNESS): $(HARNESS_SRCS:t/unit/harness/%.c=$(BUILD)/unit-harness/%.o)
	rm -f $@
	ar rcs $@ $^

$(ASAN_HARNESS): $(HARNESS_SRCS:t/unit/harness/%.c=$(BUILD)/asan/unit-harness/%.o)
	rm -f $@
	ar rcs $@ $^

-include $(HARNESS_SRCS:t/unit/harness/%.c=$(BUILD)/unit-harness/%.d) \
         $(HARNESS_SRCS:t/unit/harness/%.c=$(BUILD)/asan/unit-harness/%.d)

$(BUILD)/unit/%: t/unit/%.c $(HARNESS) $(CORE) include/omadm.h \
                 | $(BUILD)/unit $(BUILD)/dep
	$(CC) $(UNIT_CFLAGS) -MMD -MP -MF $(BUILD)/dep/unit-$*.d $< -o $@ \
	    $(HARNESS) $(CORE) $(LINK_LIBS) $(CMOCKA_LIBS)

$(BUILD)/asan/unit/%: t/unit/%.c $(ASAN_HARNESS) $(ASAN_CORE) include/omadm.h \
                      | $(BUILD)/asan/unit $(BUILD)/dep
	$(CC) $(UNIT_CFLAGS) $(SAN_FLAGS) -MMD -MP -MF $(BUILD)/dep/asan-$*.d \
	    $< -o $@ $(ASAN_HARNESS) $(ASAN_CORE) $(LINK_LIBS) $(CMOCKA_LIBS)

unit-build: $(UNIT_BINS)
unit-asan-build: $(ASAN_BINS)

unit: unit-build
	@if [ -n "$(UNIT_BINS)" ]; then $(PROVE_BIN) $(UNIT_BINS); \
	 else echo "unit: no tests in t/unit"; fi

unit-asan: unit-asan-build
	@if [ -n "$(ASAN_BINS)" ]; then \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(PROVE_BIN) $(ASAN_BINS); \
	 else echo "unit-asan: no tests in t/unit"; fi


# ---- fuzzing --------------------------------------------------------------
# libFuzzer targets, one per fuzz/fuzz_<name>.cpp, linked with a clang build
# of the core under build/fuzz/ (ASan + UBSan + coverage; the gcc build is
# untouched).  `make fuzz` runs each for FUZZ_SECONDS on a corpus that grows
# in build/fuzz/corpus; `make fuzz-short` (part of `make test`) replays
# fuzz/regressions/<name>/* and runs each for 30 s on a fresh copy of
# fuzz/corpus/<name>.  Any crash, leak, timeout or OOM fails the run.

FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 300
FUZZ_FLAGS   := $(CXXSTD) -O1 -g -Iinclude -Isrc -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_NAMES   := $(patsubst fuzz/fuzz_%.cpp,%,$(wildcard fuzz/fuzz_*.cpp))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_OBJS    := $(CORE_SRCS:src/%.cpp=$(FUZZ_DIR)/obj/%.o)
FUZZ_CORE    := $(FUZZ_DIR)/libomadm_core.a

.PHONY: fuzz fuzz-short fuzz-build

# The core's warnings are enforced by the gcc build; clang's extra ones
# are shown here but must not break `make test`.
$(FUZZ_DIR)/obj/%.o: src/%.cpp
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -Wall -Wextra -fsanitize=fuzzer-no-link \
	    -MMD -MP -c $< -o $@

$(FUZZ_CORE): $(FUZZ_OBJS)
	rm -f $@
	ar rcs $@ $^

# A target that fuzzes a self-contained backend unit compiles it in (the
# fuzzers link the core only): FUZZ_UNITS_<name>.
FUZZ_UNITS_soap := backend/soap_reader.cpp backend/xml_escape.cpp

.SECONDEXPANSION:
$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.cpp $(FUZZ_CORE) $$(FUZZ_UNITS_$$*) \
                    $$(patsubst %.cpp,%.hpp,$$(FUZZ_UNITS_$$*)) | $(FUZZ_DIR)/dep
	$(FUZZ_CXX) $(FUZZ_FLAGS) -Ibackend $(PQ_CFLAGS) $(WARN) -fsanitize=fuzzer \
	    -MMD -MP -MF $(FUZZ_DIR)/dep/$*.d $< $(FUZZ_UNITS_$*) -o $@ \
	    $(FUZZ_CORE) $(LINK_LIBS)

# The profile SyncML parser is backend code that needs only expat (and
# headers): built into its target from source, without the core.
$(FUZZ_DIR)/fuzz_profile_syncml: fuzz/fuzz_profile_syncml.cpp \
		backend/profile_syncml.cpp backend/profile_syncml.hpp \
		backend/profile_model.hpp backend/contract_command.hpp | $(FUZZ_DIR)/dep
	$(FUZZ_CXX) $(FUZZ_FLAGS) $(WARN) -Ibackend $(PQ_CFLAGS) -fsanitize=fuzzer \
	    $< backend/profile_syncml.cpp -o $@ -lexpat

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	bash fuzz/run.sh $(FUZZ_SECONDS) keep $(FUZZ_DIR) $(FUZZ_NAMES)

fuzz-short: fuzz-build
	bash fuzz/run.sh 30 fresh $(FUZZ_DIR) $(FUZZ_NAMES)

$(FUZZ_DIR)/obj $(FUZZ_DIR)/dep:
	mkdir -p $@

-include $(FUZZ_OBJS:.o=.d) $(wildcard $(FUZZ_DIR)/dep/*.d)


# ---- front of several nodes ----------------------------------------------
# build/front.conf.example: scripts/front.conf.in (README.md, "Several nginx
# nodes") with example addresses and files, to copy and edit.  A word left
# between at signs fails the build.

FRONT_EXAMPLE := -e 's|@LISTEN@|443|' \
                 -e 's|@NODE1@|10.0.0.1:8443|' -e 's|@NODE2@|10.0.0.2:8443|' \
                 -e 's|@NODE_TLS_NAME@|omadm-node.internal|' \
                 -e 's|@NODE_CA@|/etc/omadm-front/nodes-ca.crt|' \
                 -e 's|@SERVER_CRT@|/etc/omadm-front/server.crt|' \
                 -e 's|@SERVER_KEY@|/etc/omadm-front/server.key|' \
                 -e 's|@STATE@|/var/lib/omadm-front|'

$(BUILD)/front.conf.example: scripts/front.conf.in
	@mkdir -p $(BUILD)
	sed $(FRONT_EXAMPLE) $< > $@.tmp
	@if grep -n '@[A-Z0-9_]*@' $@.tmp; then \
	    echo "$@: placeholders left (FRONT_EXAMPLE in Makefile)" >&2; rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@


# ---- integration tests, run, stop -----------------------------------------

integration: all
	prove -v t/

# The store's tests again with the backends on a private PostgreSQL
# (t/lib/OmadmTest/Postgres.pm); tests that read the SQLite file skip.
PG_TESTS := t/backend.t t/commands.t t/backend_group_commit.t t/session_md5.t \
            t/operator_limits.t t/devices_batch.t t/alerts.t t/verbs.t \
            t/profiles.t t/enrollment.t t/enrollment_users.t t/console_api.t \
            t/large_objects.t t/backend_objects.t t/concurrency.t t/protocol.t \
            t/profile_backend_kill.t

.PHONY: integration-postgresql
integration-postgresql: all
	OMADM_TEST_DATABASE=postgresql prove -v $(PG_TESTS)

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) fuzz-short
	$(MAKE) integration
	$(MAKE) integration-postgresql

run: deps
	$(MAKE) all
	scripts/run.sh

stop:
	scripts/stop.sh

# ---- core micro-benchmark ------------------------------------------------
# build/core_bench: the core through its C ABI against expat's bare parse
# (bench/core_bench.c), linked with this tree's core; build/core_bench_old
# with the core of BENCH_OLD_REF (git archive of that commit's src/ and
# include/ into build/bench-old), so both are measured in the same run.

BENCH_OLD_REF ?= main
OLD_DIR       := $(BUILD)/bench-old
BENCH_CFLAGS  := -std=c11 -O2 -g $(WARN)

$(BUILD)/core_bench: bench/core_bench.c $(CORE) include/omadm.h
	$(CC) $(BENCH_CFLAGS) -Iinclude $< -o $@ $(CORE) $(LINK_LIBS)

# rebuilt whenever asked: the ref may have moved
.PHONY: core-bench core-bench-old
core-bench-old:
	rm -rf $(OLD_DIR) && mkdir -p $(OLD_DIR)/obj
	git archive $(BENCH_OLD_REF) src include | tar -x -C $(OLD_DIR)
	cd $(OLD_DIR) && for f in src/*/*.cpp; do \
	    o=obj/$$(echo $$f | tr / _).o; \
	    $(CXX) $(CXXSTD) -O2 -g -fPIC -fvisibility=hidden -Iinclude -Isrc \
	        -c $$f -o $$o || exit 1; done
	ar rcs $(OLD_DIR)/libomadm_core.a $(OLD_DIR)/obj/*.o
	$(CC) $(BENCH_CFLAGS) -I$(OLD_DIR)/include bench/core_bench.c \
	    -o $(BUILD)/core_bench_old $(OLD_DIR)/libomadm_core.a $(LINK_LIBS)

core-bench: $(BUILD)/core_bench core-bench-old
	$(BUILD)/core_bench_old old
	$(BUILD)/core_bench new

# throughput ratios against plain nginx, measured in one run (bench/README.md)
bench: deps
	$(MAKE) all
	$(MAKE) core-bench
	bench/run.sh

clean:
	rm -rf $(BUILD)


$(BUILD)/obj $(BUILD)/asan/obj $(BUILD)/unit $(BUILD)/asan/unit \
$(BUILD)/backend $(BUILD)/dep:
	mkdir -p $@

-include $(CORE_OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(BACKEND_OBJS:.o=.d) \
         $(wildcard $(BUILD)/dep/*.d)
