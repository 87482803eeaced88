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


def test_import_mmengine_is_light():
    """``import mmengine`` and its cheap top-level names pull in none of
    torch, numpy, yaml, rich (they are imported on first use)."""
    code = ('import sys, mmengine; '
            'from mmengine import load, dump, list_from_file, ManagerMixin, '
            'ProgressBar, Timer, digit_version, mkdir_or_exist; '
            "print(sorted(m for m in ('torch', 'numpy', 'yaml', 'rich', "
            "'lmdb', 'requests', 'subprocess') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == '[]'


# Never dependencies of this project (DESIGN §2): not even optional ones.
_BANNED = {'pkg_resources', 'yapf', 'addict', 'termcolor', 'cv2', 'opencv'}


def _imported_modules(tree):
    """Top-level names of every module a Python file imports, including
    ``importlib.import_module('x')`` / ``__import__('x')`` with a literal
    name."""
    import ast
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split('.')[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module \
                and node.level == 0:
            yield node.module.split('.')[0], node.lineno
        elif isinstance(node, ast.Call) and node.args and isinstance(
                node.args[0], ast.Constant) and isinstance(
                    node.args[0].value, str):
            func = node.func
            name = getattr(func, 'attr', getattr(func, 'id', ''))
            if name in ('import_module', '__import__'):
                yield node.args[0].value.split('.')[0], node.lineno


def test_no_banned_imports_in_package_or_tests():
    import ast
    from pathlib import Path

    import mmengine
    root = Path(mmengine.__file__).resolve().parents[1]
    found = []
    for folder in ('mmengine', 'tests', 'benchmarks'):
        for path in sorted((root / folder).rglob('*.py')):
            tree = ast.parse(path.read_text(encoding='utf-8'), str(path))
            for module, lineno in _imported_modules(tree):
                if module in _BANNED:
                    found.append(f'{path.relative_to(root)}:{lineno}: '
                                 f'{module}')
    assert not found, 'banned imports:\n' + '\n'.join(found)
    pyproject = (root / 'pyproject.toml').read_text()
    for name in ('pkg_resources', 'yapf', 'addict', 'termcolor', 'opencv'):
        assert name not in pyproject, name
