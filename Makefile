# make install    - a virtual environment in .venv with the package and its test tools; works with a
#                   distribution's own Python (Debian's and Ubuntu's refuse pip outside one, PEP 668),
#                   installing Debian's python3-venv first where it is missing
# make test       - install, then run the test suite (what .ci/run runs): three pytest-xdist workers,
#                   which keep two cores busy while some tests wait on the processes they start
# make train      - install, then train the slide-deck GAN on Fashion-MNIST (offline); MODEL=dcgan (or any
#                   preset: python -m keras_gan.train --help) trains another member of the family
# make experiment - every configuration of experiments/configs (reduced budget; FULL=1 for the papers'
#                   lengths; ONLY=name,...; SEEDS=0,1,2 for other seeds), then experiments/report.md;
#                   re-running reuses and resumes
# make bench      - images per second of the training step against the deck's loop, the compute floor
#                   and PyTorch, each speed-only replacement on and off
# After make install, `. .venv/bin/activate` puts python -m keras_gan.* on the command line.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATASET ?= fashion_mnist
MODEL ?= vanilla
EPOCHS ?=
RUN_DIR ?= runs/$(MODEL)_$(DATASET)
ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FASHION_MNIST := /usr/share/datasets/fashion-mnist
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

.PHONY: install data test train experiment bench clean

install: $(VENV)/.installed

# venv needs ensurepip, which Debian and Ubuntu ship apart from their Python (python3-venv).
$(VENV)/.installed: setup.py setup.cfg
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { $(APT) update -q && $(APT) install -y -q python3-venv \
		python$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

# Fashion-MNIST, and the colour emoji of the folder-dataset demo (keras_gan/data/emoji.py): offline data.
data:
	@[ -d $(FASHION_MNIST) ] && [ -f $(EMOJI_FONT) ] || { $(APT) update -q && \
		$(APT) install -y -q dataset-fashion-mnist fonts-noto-color-emoji; }

test: install data
	$(PY) -m pytest -n 3 --dist worksteal tests

# Re-running resumes an interrupted run (or finds it finished).
train: install data
	$(PY) -m keras_gan.train --model=$(MODEL) --dataset=$(DATASET) --output_dir=$(RUN_DIR) \
		$(if $(EPOCHS),--epochs=$(EPOCHS)) \
		$$([ -f $(RUN_DIR)/checkpoint.npz ] && echo --resume) $(ARGS)

experiment: install data
	$(PY) -m keras_gan.experiment $(if $(FULL),--full) $(if $(ONLY),--only=$(ONLY)) $(if $(SEEDS),--seeds=$(SEEDS)) $(ARGS)

bench: install
	$(PY) -m keras_gan.bench $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
