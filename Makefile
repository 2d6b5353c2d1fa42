# The two commands of the README. Both install what is missing (apt-get, only
# when something is), configure once, and build incrementally.
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all setup build demo check check-sanitizers gpu-bundle clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/build.ninja: | setup
	cmake -G Ninja -S . -B $(BUILD) $(CMAKE_FLAGS)

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD)

demo: build
	@bash scripts/demo.sh $(BUILD)

check: build
	@bash scripts/check.sh $(BUILD)

# A folder (and .tar.gz) that checks and measures the GPU code on a machine
# with an NVIDIA GPU and driver only: BUILD/gpu-bundle/run.sh (docs/GPU.md).
gpu-bundle: build
	@bash scripts/gpu-bundle.sh $(BUILD)

# The lit suite under AddressSanitizer and UndefinedBehaviorSanitizer.
check-sanitizers:
	$(MAKE) check BUILD=build-sanitizers \
	  CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAGE_ENABLE_SANITIZERS=ON"

clean:
	rm -rf $(BUILD)
