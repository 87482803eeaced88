import os.path as osp
from importlib.metadata import PackageNotFoundError

import pytest

from mmengine.utils import (get_installed_path, is_installed,
                            package2module, package_exists)


def test_is_installed_and_package_exists(tmp_path, monkeypatch):
    assert is_installed('numpy')
    assert is_installed('PyYAML')  # distribution name
    assert is_installed('yaml')  # import name
    assert not is_installed('no_such_package_zzz')
    assert package_exists('json')
    assert not package_exists('no_such_package_zzz')
    # a folder with __init__.py on sys.path counts as installed
    (tmp_path / 'localpkg').mkdir()
    (tmp_path / 'localpkg' / '__init__.py').write_text('')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert is_installed('localpkg')
    assert get_installed_path('localpkg') == str(tmp_path / 'localpkg')


def test_get_installed_path():
    import numpy
    assert get_installed_path('numpy') == osp.dirname(numpy.__file__)
    import yaml
    assert get_installed_path('PyYAML') == osp.dirname(yaml.__file__)
    with pytest.raises(PackageNotFoundError, match='no_such_package_zzz'):
        get_installed_path('no_such_package_zzz')
    # PackageNotFoundError is an ImportError
    with pytest.raises(ImportError):
        get_installed_path('no_such_package_zzz')


def test_package2module():
    assert package2module('PyYAML') == 'yaml'
    with pytest.raises(ValueError, match='no_such_package_zzz'):
        package2module('no_such_package_zzz')
