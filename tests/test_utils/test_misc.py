import sys
from collections import namedtuple

import pytest

from mmengine.utils import (apply_to, check_prerequisites, concat_list,
                            deprecated_api_warning, deprecated_function,
                            get_object_from_string, has_method,
                            import_modules_from_strings, is_list_of,
                            is_method_overridden, is_seq_of, is_str,
                            is_tuple_of, iter_cast, list_cast,
                            requires_executable, requires_package,
                            slice_list, to_1tuple, to_2tuple, to_3tuple,
                            to_4tuple, to_ntuple, tuple_cast)


def test_type_checks():
    assert is_str('a') and not is_str(1)
    assert is_seq_of([1, 2], int) and is_seq_of((1, 2), int)
    assert not is_seq_of([1, 'a'], int)
    assert not is_seq_of(1, int)
    assert is_seq_of([1, 2.0], (int, float))
    assert is_seq_of((1, 2), int, seq_type=tuple)
    assert not is_seq_of([1, 2], int, seq_type=tuple)
    assert is_list_of([1], int) and not is_list_of((1, ), int)
    assert is_tuple_of((1, ), int) and not is_tuple_of([1], int)


def test_ntuple():
    assert to_1tuple(1) == (1, )
    assert to_2tuple(3) == (3, 3)
    assert to_3tuple('ab') == ('ab', ) * 3  # strings are scalars here
    assert to_4tuple((1, 2)) == (1, 2)  # iterables pass through
    assert to_ntuple(5)(0) == (0, ) * 5


def test_casts():
    assert list_cast(['1', '2'], int) == [1, 2]
    assert tuple_cast(['1'], float) == (1.0, )
    assert list(iter_cast('12', int)) == [1, 2]
    assert iter_cast(['1'], int, return_type=set) == {1}
    with pytest.raises(TypeError, match='iterable'):
        iter_cast(1, int)
    with pytest.raises(TypeError, match='dst_type'):
        iter_cast([1], 'int')


def test_slice_and_concat():
    assert slice_list([1, 2, 3, 4], [1, 3]) == [[1], [2, 3, 4]]
    assert slice_list([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match='length 3'):
        slice_list([1, 2, 3], 2)
    with pytest.raises(ValueError, match='3 != 2'):
        slice_list([1, 2], [1, 2])
    with pytest.raises(TypeError):
        slice_list([1, 2], 'a')
    assert concat_list([[1], [2, 3], []]) == [1, 2, 3]


def test_import_modules_from_strings():
    import os.path
    assert import_modules_from_strings('os.path') is os.path
    mods = import_modules_from_strings(['os', 'sys'])
    assert mods[1] is sys
    assert import_modules_from_strings(None) is None
    with pytest.raises(ImportError):
        import_modules_from_strings('no_such_module_xyz')
    with pytest.warns(UserWarning, match='no_such_module_xyz'):
        mods = import_modules_from_strings(
            ['os', 'no_such_module_xyz'], allow_failed_imports=True)
    assert mods[1] is None
    with pytest.raises(TypeError, match='list'):
        import_modules_from_strings(('os', ))
    with pytest.raises(TypeError, match='int'):
        import_modules_from_strings([1])


def test_requires_package_and_executable():

    @requires_package('os')
    def ok():
        return 1

    @requires_package(['os', 'no_such_pkg_abc'])
    def missing():
        return 1

    assert ok() == 1
    with pytest.raises(RuntimeError, match='no_such_pkg_abc.*missing'):
        missing()

    @requires_executable('python3_no_such_exe_zz')
    def needs_exe():
        return 1

    with pytest.raises(RuntimeError, match='python3_no_such_exe_zz'):
        needs_exe()

    @check_prerequisites('x', checker=lambda item: True)
    def fine():
        return 2

    assert fine() == 2


def test_deprecated_api_warning():

    @deprecated_api_warning({'old': 'new'}, cls_name='Cls')
    def func(new=0):
        return new

    with pytest.warns(DeprecationWarning, match='Cls.func'):
        assert func(old=3) == 3
    assert func(new=4) == 4
    with pytest.raises(AssertionError):
        func(old=1, new=2)


def test_deprecated_function():

    @deprecated_function('0.1', '0.2', 'use other()')
    def old_func():
        """Summary line.

        More text.
        """
        return 7

    assert '.. deprecated:: 0.1' in old_func.__doc__
    assert old_func.__doc__.startswith('Summary line.')
    assert old_func() == 7


def test_method_helpers():

    class Base:

        def foo(self):
            pass

    class Sub(Base):

        def foo(self):
            pass

    class Same(Base):
        pass

    assert is_method_overridden('foo', Base, Sub)
    assert is_method_overridden('foo', Base, Sub())
    assert not is_method_overridden('foo', Base, Same)
    with pytest.raises(AssertionError):
        is_method_overridden('foo', Base(), Sub)
    assert has_method(Sub(), 'foo') and not has_method(Sub(), 'bar')


def test_apply_to():
    Point = namedtuple('Point', ['x', 'y'])
    data = dict(a=[1, 'b', (2, 3)], p=Point(4, 'z'))
    out = apply_to(data, lambda x: isinstance(x, int), lambda x: x * 10)
    assert out == dict(a=[10, 'b', (20, 30)], p=Point(40, 'z'))
    assert isinstance(out['p'], Point)


def test_get_object_from_string():
    import os.path
    assert get_object_from_string('os.path.join') is os.path.join
    assert get_object_from_string('os.path') is os.path
    assert get_object_from_string('os.no_such_attr') is None
    assert get_object_from_string('no_such_mod_qq.x') is None


def test_deprecated_api_warning_for_positional_arguments():

    @deprecated_api_warning({'old': 'new'})
    def func(old=0):
        return old

    with pytest.warns(DeprecationWarning, match='"old" is deprecated'):
        assert func(5) == 5
