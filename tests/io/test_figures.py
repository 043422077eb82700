import subprocess
import sys

import matplotlib.image as mpimg
import numpy as np

from keras_gan.io import figures as plots


def test_to_images_maps_the_range():
    x = np.array([[-1.0, 0.0, 1.0, 2.0]])
    np.testing.assert_allclose(plots.to_images(x, (2, 2, 1)).ravel(), [0, 0.5, 1, 1])


def test_sample_grid_and_loss_curves(tmp_path):
    samples = np.random.default_rng(0).uniform(-1, 1, (24, 784))
    plots.sample_grid(samples, (28, 28, 1), str(tmp_path / "g.png"), rows=4, cols=6, title="t")
    image = mpimg.imread(tmp_path / "g.png")
    assert image.shape[1] > image.shape[0]  # 6 columns by 4 rows: wider than tall
    losses = np.abs(np.random.default_rng(1).normal(1, 0.2, 40))
    plots.loss_curves([("loss", {"d_loss": losses, "g_loss": losses * 2})], str(tmp_path / "l.png"), steps_per_epoch=10)
    assert mpimg.imread(tmp_path / "l.png").shape[0] > 100


def test_figures_are_closed_and_leave_no_temporaries(tmp_path):
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    plots.sample_grid(np.zeros((4, 4)), (2, 2, 1), str(tmp_path / "new" / "g.png"), rows=2, cols=2)
    assert len(plt.get_fignums()) == before
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["g.png"]


def test_drawing_leaves_the_users_matplotlib_backend_alone(tmp_path):
    # A notebook's backend must survive importing the package and drawing with it.
    code = ("import matplotlib; matplotlib.use('svg'); import numpy as np; "
            "from keras_gan.io import figures; "
            "figures.sample_grid(np.zeros((4, 4)), (2, 2, 1), 'g.png', rows=2, cols=2); "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "svg" and (tmp_path / "g.png").stat().st_size > 0
