"""Model wrappers; the distributed tests run in 2 real gloo processes."""
import copy
import subprocess
import sys
from unittest.mock import patch

import pytest
import torch
import torch.distributed as torch_dist
import torch.nn as nn
from torch.nn.parallel import DataParallel, DistributedDataParallel
from torch.optim import SGD

from mmengine.dist import all_gather
from mmengine.model import (BaseDataPreprocessor, BaseModel,
                            ExponentialMovingAverage,
                            MMDistributedDataParallel,
                            MMFullyShardedDataParallel,
                            MMSeparateDistributedDataParallel,
                            is_model_wrapper)
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import MODEL_WRAPPERS, Registry
from mmengine.testing._internal import MultiProcessTestCase


class CountingPreprocessor(BaseDataPreprocessor):

    def forward(self, data, training=False):
        self.calls = getattr(self, 'calls', 0) + 1
        return super().forward(data, training)


class ToyModel(BaseModel):

    def __init__(self, with_unused=False):
        super().__init__(data_preprocessor=CountingPreprocessor())
        self.linear = nn.Linear(3, 2)
        if with_unused:
            self.unused = nn.Linear(1, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=(out**2).mean())
        return out


class GanLikeModel(BaseModel):
    """Two parts updated by two optimizer wrappers, plus frozen parts."""

    def __init__(self):
        super().__init__()
        self.gen = nn.Linear(3, 3)
        self.disc = nn.Linear(3, 1)
        self.act = nn.ReLU()
        self.ema = ExponentialMovingAverage(nn.Linear(3, 3))

    def train_step(self, data, optim_wrapper):
        inputs = self.data_preprocessor(data, True)['inputs']
        with optim_wrapper['gen'].optim_context(self.gen):
            loss_g = self.gen(inputs).pow(2).mean()
        optim_wrapper['gen'].update_params(loss_g)
        with optim_wrapper['disc'].optim_context(self.disc):
            loss_d = self.disc(inputs).pow(2).mean()
        optim_wrapper['disc'].update_params(loss_d)
        return dict(loss_g=loss_g.detach(), loss_d=loss_d.detach())

    def val_step(self, data):
        return ['val']

    def test_step(self, data):
        return ['test']

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.disc(self.gen(inputs))


def _rank_inputs(rank, n=4):
    return torch.randn(n, 3, generator=torch.Generator().manual_seed(rank))


def _reference_sgd_step(model, lr, world_size=2):
    """One SGD step of ``model`` on the mean of the per-rank losses' grads
    (what DDP's gradient averaging must give)."""
    ref = copy.deepcopy(model)
    grads = [torch.zeros_like(p) for p in ref.parameters()]
    for r in range(world_size):
        ref.zero_grad()
        ref(_rank_inputs(r), mode='loss')['loss'].backward()
        for g, p in zip(grads, ref.parameters()):
            if p.grad is not None:
                g += p.grad / world_size
    with torch.no_grad():
        for g, p in zip(grads, ref.parameters()):
            p -= lr * g
    return ref


def _assert_same_on_ranks(tensor):
    gathered = all_gather(tensor.detach().contiguous())
    torch.testing.assert_close(gathered[0], gathered[1])


def _assert_differs_on_ranks(tensor):
    gathered = all_gather(tensor.detach().contiguous())
    assert not torch.allclose(gathered[0], gathered[1])


class TestWrappersDistributed(MultiProcessTestCase):
    timeout = 120

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Building a DDP imports torch._dynamo (~2 s) and FSDP is slow to
        # import too: do it once here, the forked children inherit them.
        import torch._dynamo  # noqa: F401
        import mmengine.model.wrappers.fully_sharded_distributed  # noqa

    def setUp(self):
        super().setUp()
        # fork: no re-import of torch in the children (fast); CPU only.
        self._fork_processes()

    def _init_dist(self):
        torch_dist.init_process_group(
            backend='gloo',
            init_method=f'file://{self.file_name}',
            rank=self.rank,
            world_size=self.world_size)

    def test_mm_distributed_data_parallel(self):
        self._init_dist()
        torch.manual_seed(0)
        model = ToyModel()
        expected = _reference_sgd_step(model, lr=0.1)
        ddp = MMDistributedDataParallel(module=model)
        assert is_model_wrapper(ddp)
        optim_wrapper = OptimWrapper(SGD(ddp.parameters(), lr=0.1))
        data = dict(inputs=_rank_inputs(self.rank))
        log_vars = ddp.train_step(data, optim_wrapper=optim_wrapper)
        assert set(log_vars) == {'loss'}
        assert model.data_preprocessor.calls == 1
        # gradients were averaged over the ranks before the step
        for p, p_ref in zip(model.parameters(), expected.parameters()):
            _assert_same_on_ranks(p)
            torch.testing.assert_close(p, p_ref)

        # Gradient accumulation: the first step runs under no_sync, so the
        # gradients stay local; the second one synchronises and updates.
        accum = OptimWrapper(SGD(ddp.parameters(), lr=0.1),
                             accumulative_counts=2)
        accum.initialize_count_status(ddp, 0, 2)
        ddp.train_step(data, optim_wrapper=accum)
        _assert_differs_on_ranks(model.linear.weight.grad)
        ddp.train_step(data, optim_wrapper=accum)
        for p in model.parameters():
            _assert_same_on_ranks(p)

        # val_step / test_step delegate to the module (preprocessor used)
        calls = model.data_preprocessor.calls
        pred = ddp.val_step(data)
        torch.testing.assert_close(pred, model(data['inputs']))
        assert isinstance(ddp.test_step(data), torch.Tensor)
        assert model.data_preprocessor.calls == calls + 2

        with pytest.raises(TypeError, match='dict, tuple or list'):
            ddp._run_forward(torch.ones(1, 3), mode='tensor')
        # tuple data is unpacked positionally
        out = ddp._run_forward((data['inputs'], ), mode='predict')
        assert out.shape == (4, 2)

    def test_detect_anomalous_params(self):
        self._init_dist()
        model = ToyModel(with_unused=True)
        ddp = MMDistributedDataParallel(
            module=model,
            detect_anomalous_params=True,
            find_unused_parameters=True)
        optim_wrapper = OptimWrapper(SGD(ddp.parameters(), lr=0.1))
        import mmengine.model.utils as model_utils
        real = model_utils.detect_anomalous_params
        results = []

        def spy(loss, model):
            assert loss.grad_fn is not None  # called before backward
            results.append(real(loss, model))
            return results[-1]

        with patch.object(model_utils, 'detect_anomalous_params', spy):
            ddp.train_step(
                dict(inputs=_rank_inputs(self.rank)), optim_wrapper)
        assert len(results) == 1
        assert any('unused' in n for n in results[0]), results
        assert not any('linear' in n for n in results[0]), results

    def test_mm_separate_distributed_data_parallel(self):
        self._init_dist()
        torch.manual_seed(0)
        model = GanLikeModel()
        ddp = MMSeparateDistributedDataParallel(model)
        assert is_model_wrapper(ddp)
        assert isinstance(ddp.module.gen, MMDistributedDataParallel)
        assert isinstance(ddp.module.disc, MMDistributedDataParallel)
        # frozen or parameter-free children are not wrapped
        assert isinstance(ddp.module.ema, ExponentialMovingAverage)
        assert isinstance(ddp.module.act, nn.ReLU)
        assert isinstance(ddp.module.data_preprocessor, BaseDataPreprocessor)

        optim_wrapper = OptimWrapperDict(
            gen=OptimWrapper(SGD(model.gen.parameters(), lr=0.1)),
            disc=OptimWrapper(SGD(model.disc.parameters(), lr=0.2)))
        data = dict(inputs=_rank_inputs(self.rank))
        ddp.train()
        log_vars = ddp.train_step(data, optim_wrapper)
        assert set(log_vars) == {'loss_g', 'loss_d'}
        _assert_differs_on_ranks(log_vars['loss_g'])  # different data ...
        for p in model.parameters():  # ... same weights everywhere
            _assert_same_on_ranks(p)

        # no_sync covers every child DDP
        with ddp.no_sync():
            model.gen(data['inputs']).pow(2).mean().backward()
        _assert_differs_on_ranks(model.gen.module.weight.grad)

        ddp.eval()
        assert not ddp.training and not model.gen.training
        ddp.train()
        assert ddp.training and model.disc.training
        assert ddp.val_step(data) == ['val']
        assert ddp.test_step(data) == ['test']
        assert ddp(data['inputs']).shape == (4, 1)

    def test_mm_fully_sharded_data_parallel(self):
        # FSDP works on CPU with gloo in torch >= 2.x.
        self._init_dist()
        from mmengine.model.wrappers.fully_sharded_distributed import \
            MMFullyShardedDataParallel as RealFSDP
        torch.manual_seed(0)
        model = ToyModel()
        expected = _reference_sgd_step(model, lr=0.1)
        fsdp = MMFullyShardedDataParallel(
            module=model,
            sharding_strategy='full_shard',
            auto_wrap_policy=dict(
                type='size_based_auto_wrap_policy', min_num_params=1))
        assert type(fsdp) is RealFSDP
        assert isinstance(fsdp, MMFullyShardedDataParallel)
        assert is_model_wrapper(fsdp)
        optim_wrapper = OptimWrapper(SGD(fsdp.parameters(), lr=0.1))
        data = dict(inputs=_rank_inputs(self.rank))
        log_vars = fsdp.train_step(data, optim_wrapper)
        assert set(log_vars) == {'loss'}
        with RealFSDP.summon_full_params(fsdp):
            for p, p_ref in zip(fsdp.module.parameters(),
                                expected.parameters()):
                _assert_same_on_ranks(p)
                torch.testing.assert_close(p, p_ref)
        pred = fsdp.val_step(data)
        with torch.no_grad():
            torch.testing.assert_close(pred, expected(data['inputs']))
        assert fsdp.test_step(data).shape == (4, 2)


# --------------------------------------------------------------------------
# single-process behaviour


def test_is_model_wrapper():
    model = nn.Linear(1, 1)
    assert not is_model_wrapper(model)
    assert is_model_wrapper(DataParallel(model))
    for name in ('DistributedDataParallel', 'DataParallel',
                 'MMDistributedDataParallel',
                 'MMSeparateDistributedDataParallel',
                 'MMFullyShardedDataParallel'):
        assert name in MODEL_WRAPPERS.module_dict
    assert MODEL_WRAPPERS.get('DistributedDataParallel') is \
        DistributedDataParallel

    # wrappers of downstream (child) registries are recognised too
    child = Registry('model_wrapper', parent=MODEL_WRAPPERS,
                     scope='h2_wrapper_test')

    @child.register_module()
    class CustomWrapper(nn.Module):

        def __init__(self, module):
            super().__init__()
            self.module = module

    try:
        assert is_model_wrapper(CustomWrapper(model))
        assert not is_model_wrapper(CustomWrapper(model),
                                    registry=Registry('other'))
    finally:
        MODEL_WRAPPERS.children.pop('h2_wrapper_test', None)


def test_fsdp_is_imported_lazily():
    code = ('import sys, mmengine.model as m; '
            'assert "torch.distributed.fsdp" not in sys.modules; '
            'import torch.nn as nn; '
            'assert not m.is_model_wrapper(nn.Linear(1, 1)); '
            'assert not isinstance(nn.Linear(1, 1), '
            'm.MMFullyShardedDataParallel); '
            'assert "torch.distributed.fsdp" not in sys.modules')
    subprocess.run([sys.executable, '-c', code], check=True, timeout=120)


def test_fsdp_stand_in_and_errors():
    from mmengine.model.wrappers.fully_sharded_distributed import \
        MMFullyShardedDataParallel as RealFSDP
    stand_in = MMFullyShardedDataParallel
    assert issubclass(RealFSDP, stand_in)
    assert MODEL_WRAPPERS.get('MMFullyShardedDataParallel') is RealFSDP
    assert stand_in.train_step is RealFSDP.train_step

    class MyFSDP(stand_in):  # subclassing the stand-in subclasses FSDP

        def extra(self):
            return super().train_step

    assert issubclass(MyFSDP, RealFSDP) and issubclass(MyFSDP, stand_in)

    model = ToyModel()
    with pytest.raises(RuntimeError, match='distributed mode'):
        stand_in(module=model)
    with pytest.raises(TypeError, match='nn.Module'):
        stand_in(module='model')
    with pytest.raises(ValueError, match='sharding_strategy "bogus"'):
        stand_in(module=model, sharding_strategy='bogus')
    with pytest.raises(TypeError, match='cpu_offload'):
        stand_in(module=model, cpu_offload=3)
    with pytest.raises(KeyError, match='no_such_policy'):
        stand_in(module=model, auto_wrap_policy='no_such_policy')
    with pytest.raises(KeyError, match='"type"'):
        stand_in(module=model, auto_wrap_policy=dict(min_num_params=1))
    with pytest.raises(ValueError, match='float17'):
        stand_in(module=model, mixed_precision=dict(param_dtype='float17'))
    with pytest.raises(TypeError, match='backward_prefetch'):
        stand_in(module=model, backward_prefetch=1)


def test_separate_ddp_rejects_non_module():
    with pytest.raises(TypeError, match='nn.Module'):
        MMSeparateDistributedDataParallel('model')
