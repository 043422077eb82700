# make test   - install everything (Debian data package included) and run the test suite
# make train  - install everything and train the slide-deck GAN on Fashion-MNIST (offline);
#               MODEL=dcgan (or any preset of keras_gan/presets.py) trains another member of the family
# make experiment - every configuration of experiments/configs (reduced budget; FULL=1 for the papers'
#                   lengths; ONLY=name,...; SEEDS=0,1,2 for other seeds), then experiments/report.md;
#                   re-running reuses and resumes
# make bench  - images per second of the training step against the deck's loop and the compute floor
PYTHON ?= python3
DATASET ?= fashion_mnist
MODEL ?= vanilla
EPOCHS ?=
RUN_DIR ?= runs/$(MODEL)_$(DATASET)
ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FASHION_MNIST := /usr/share/datasets/fashion-mnist

.PHONY: install data test train experiment bench clean

install: build/.installed

build/.installed: setup.py setup.cfg
	$(PYTHON) -m pip install -q -e '.[test]'
	@mkdir -p build && touch $@

data:
	@[ -d $(FASHION_MNIST) ] || { $(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q dataset-fashion-mnist; }

test: install data
	$(PYTHON) -m pytest -n 2 tests

# Re-running resumes an interrupted run (or finds it finished).
train: install data
	$(PYTHON) -m keras_gan.train --model=$(MODEL) --dataset=$(DATASET) --output_dir=$(RUN_DIR) \
		$(if $(EPOCHS),--epochs=$(EPOCHS)) \
		$$([ -f $(RUN_DIR)/checkpoint.npz ] && echo --resume) $(ARGS)

experiment: install data
	$(PYTHON) -m keras_gan.experiment $(if $(FULL),--full) $(if $(ONLY),--only=$(ONLY)) $(if $(SEEDS),--seeds=$(SEEDS)) $(ARGS)

bench: install
	$(PYTHON) -m keras_gan.bench $(ARGS)

clean:
	rm -rf build *.egg-info .pytest_cache
