"""What the studio imports and when: Home checks a dataset and Dataset EDA analyses it without torch (a
first paint that does not wait seconds for it), and the warm-up thread then loads torch
for the other pages; no page needs torchvision (seconds to import)."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.subprocess


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def import_page_modules(page: str) -> str:
    """Code that imports every module a page's `from ... import` lines name, as its first run does."""
    return f"""
import ast, importlib, sys
tree = ast.parse(open({page!r}).read())
for node in tree.body:
    if isinstance(node, ast.ImportFrom):
        importlib.import_module(node.module)
"""


def test_home_page_modules_and_a_dataset_check_import_no_torch(competition_data, session_folders):
    out = run_python(import_page_modules("pages/home.py") + f"""
from gan_core.data import inspect_dataset
report = inspect_dataset({str(competition_data)!r})
print(report.counts['monet'], report.counts['photo'], 'torch' in sys.modules, 'torchvision' in sys.modules)
""")
    assert out.split()[-4:] == ["300", "7038", "False", "False"]


def test_dataset_eda_page_modules_and_an_analysis_import_no_torch(competition_data, session_folders):
    out = run_python(import_page_modules("pages/dataset_eda.py") + f"""
from gan_core import eda
from studio import eda_view
stats = eda.analyse({str(competition_data)!r})
eda.summary_table(stats), eda_view.channel_figure(stats), eda_view.hsv_figure(stats)
eda_view.per_image_histograms(stats)
shown = eda_view.gallery_images({str(competition_data)!r}, stats, 'photo', 0)
print(stats.domains['monet'].count, stats.domains['photo'].count, len(shown),
      'torch' in sys.modules, 'torchvision' in sys.modules)
""")
    assert out.split()[-5:] == ["300", "7038", "8", "False", "False"]


def test_loading_images_still_gives_torch_tensors(competition_data, session_folders):
    out = run_python(f"""
from gan_core.data import ImageSet, load_images
images = load_images({str(competition_data)!r}, 32).select('monet')
print(isinstance(images, ImageSet), type(images.images).__name__, images.images.dtype, tuple(images.images.shape))
""")
    assert out.splitlines()[-1] == "True Tensor torch.uint8 (300, 3, 32, 32)"


def test_warm_imports_loads_torch_once_in_the_background_when_no_page_runs():
    out = run_python("""
import sys, time
from studio.warmup import page_running, warm_imports
with page_running():
    first = warm_imports(idle_s=0.3)
    time.sleep(1.0)
    print(first.daemon, 'torch' in sys.modules)  # not while a page runs
first.join(120)
print(warm_imports() is first, 'torch' in sys.modules)
""")
    lines = out.splitlines()[-2:]
    assert lines[0] == "True False"
    assert lines[1] == "True True"


def test_no_page_and_not_the_trainer_imports_torchvision(tmp_path):
    """torchvision takes as long as torch to import: the pages, the trainer and its sample grids do without it."""
    code = "".join(import_page_modules(str(page)) for page in sorted((REPO / "pages").glob("*.py")))
    out = run_python(code + f"""
import torch
from gan_core.trainer import save_grid
save_grid(torch.zeros(4, 3, 8, 8), __import__('pathlib').Path({str(tmp_path / 'grid.png')!r}))
print('torchvision' in sys.modules)
""")
    assert out.splitlines()[-1] == "False"
    assert (tmp_path / "grid.png").stat().st_size > 0
