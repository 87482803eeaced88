import subprocess
import sys


def test_import_utils_stays_light():
    code = ('import sys, mmengine.utils; '
            "print(sorted(m for m in ('torch', 'rich', 'numpy', 'yaml') "
            'if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == '[]'


def test_import_testing_is_lazy_about_runner():
    code = ('import sys, mmengine.testing as t; '
            "print('mmengine.runner' in sys.modules, "
            "'assert_allclose' in dir(t))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == 'False True'


def test_dl_utils_resolved_on_attribute_access():
    code = ('import sys, mmengine.utils as u; '
            "before = 'torch' in sys.modules; "
            'v = u.dl_utils.TORCH_VERSION; '
            "print(before, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == 'False True'
    import mmengine.utils as u
    import pytest
    with pytest.raises(AttributeError, match='no_such_thing'):
        u.no_such_thing
