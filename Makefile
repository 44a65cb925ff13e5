# The two commands a fresh machine needs: `make demo` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps venv build demo test unit compat compat-mlflow bench bench-serving format clean

all: build

deps:
	bash scripts/install-deps.sh

venv: deps
	bash scripts/setup-venv.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build venv
	bash scripts/demo.sh

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

compat: build venv
	bash scripts/run-compat.sh

# The same compatibility suite against the real `mlflow server` (proves the tests encode
# MLflow's behaviour); not part of `make test`.
compat-mlflow: venv
	PLINTH_COMPAT_TARGET=mlflow bash scripts/run-compat.sh

test: build venv
	bash scripts/test.sh

bench: build venv
	bash bench/tracking/run.sh

# plinth serve vs mlflow models serve (~15 min); rewrites the serving section of docs/benchmarks.md.
bench-serving: build venv
	bash bench/serving/run.sh --docs

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
