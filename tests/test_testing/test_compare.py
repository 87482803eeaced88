import sys

import numpy as np
import pytest
import torch
import torch.nn as nn

from mmengine.testing import (assert_allclose, assert_attrs_equal,
                              assert_dict_contains_subset,
                              assert_dict_has_keys, assert_is_norm_layer,
                              assert_keys_equal, assert_params_all_zeros,
                              check_python_script)


def test_assert_allclose_accepts_close_values():
    assert_allclose(torch.tensor(6.), torch.tensor(6.0, dtype=torch.float32))
    assert_allclose(1.0, 1.0 + 1e-9)
    assert_allclose(0.05, 0.050001, atol=1e-5, rtol=0)
    assert_allclose(torch.tensor(1.), 1.0)  # tensor vs float
    assert_allclose(np.ones(3), torch.ones(3))  # array vs tensor
    assert_allclose(torch.ones(2, dtype=torch.float64), torch.ones(2))
    assert_allclose([torch.ones(2)], [torch.ones(2)])
    assert_allclose(torch.tensor([float('nan')]),
                    torch.tensor([float('nan')]))
    assert_allclose(1.0, 1.05, rtol=0.1)  # only rtol given


def test_assert_allclose_failures():
    with pytest.raises(AssertionError, match='lr wrong in epoch 3'):
        assert_allclose(1.0, 2.0, msg='lr wrong in epoch 3', atol=1e-5,
                        rtol=0)
    with pytest.raises(AssertionError):
        assert_allclose(torch.ones(2), torch.ones(3))
    with pytest.raises(AssertionError):
        assert_allclose(torch.tensor([float('nan')]),
                        torch.tensor([float('nan')]), equal_nan=False)
    with pytest.raises(AssertionError):
        assert_allclose(torch.zeros(2), torch.full((2, ), 1e-3))


def test_dict_helpers():
    d = dict(a=1, b=np.array([1, 2]), c=torch.tensor([3, 4]), s='x')
    assert assert_dict_contains_subset(d, dict(a=1, s='x'))
    assert assert_dict_contains_subset(d, dict(b=np.array([1, 2])))
    assert assert_dict_contains_subset(d, dict(c=torch.tensor([3, 4])))
    assert not assert_dict_contains_subset(d, dict(b=np.array([1, 3])))
    assert not assert_dict_contains_subset(d, dict(b=np.array([1, 2, 3])))
    assert not assert_dict_contains_subset(d, dict(z=1))
    assert assert_dict_has_keys(d, ['a', 'b'])
    assert not assert_dict_has_keys(d, ['a', 'z'])
    assert assert_keys_equal(['a', 'b'], ['b', 'a'])
    assert not assert_keys_equal(['a'], ['a', 'b'])


def test_assert_attrs_equal():

    class Obj:
        x = 1
        arr = np.array([1, 2])

    assert assert_attrs_equal(Obj(), dict(x=1, arr=np.array([1, 2])))
    assert not assert_attrs_equal(Obj(), dict(x=2))
    assert not assert_attrs_equal(Obj(), dict(missing=1))


def test_module_helpers():
    assert assert_is_norm_layer(nn.BatchNorm1d(2))
    assert not assert_is_norm_layer(nn.Linear(2, 2))
    conv = nn.Conv2d(1, 1, 1)
    assert not assert_params_all_zeros(conv)
    nn.init.zeros_(conv.weight)
    assert not assert_params_all_zeros(conv)  # bias not zero yet
    nn.init.zeros_(conv.bias)
    assert assert_params_all_zeros(conv)
    no_bias = nn.Linear(2, 2, bias=False)
    nn.init.zeros_(no_bias.weight)
    assert assert_params_all_zeros(no_bias)
    with pytest.raises(AttributeError, match='ReLU'):
        assert_params_all_zeros(nn.ReLU())


def test_check_python_script(tmp_path, capsys):
    script = tmp_path / 'script.py'
    script.write_text('import sys\nprint("args", sys.argv[1:])\n')
    argv = list(sys.argv)
    check_python_script(f'python {script} --a 1')
    assert "args ['--a', '1']" in capsys.readouterr().out
    assert sys.argv == argv
    with pytest.raises(ValueError, match='script'):
        check_python_script('python')


def test_lazy_names():
    import mmengine.testing as testing
    with pytest.raises(AttributeError, match='no_such_name'):
        testing.no_such_name
    assert 'RunnerTestCase' in testing.__all__


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_dict_and_attr_checks_compare_cuda_tensors():
    t = torch.arange(3, device='cuda')
    assert assert_dict_contains_subset({'a': t}, {'a': t.clone()})
    assert not assert_dict_contains_subset({'a': t}, {'a': t[:2]})
