import functools
import http.server
import json
import logging
import os
import os.path as osp
import pickle
import threading
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as nn

import mmengine.runner.checkpoint as ckpt_module
from mmengine.fileio import BaseStorageBackend, register_backend
from mmengine.runner.checkpoint import (AsyncCheckpointSave, CheckpointLoader,
                                        _load_checkpoint,
                                        _load_checkpoint_to_model,
                                        check_pickle_free,
                                        find_latest_checkpoint,
                                        get_state_dict, load_checkpoint,
                                        load_state_dict, save_checkpoint,
                                        wait_async_saves, weights_to_cpu)


class Net(nn.Module):

    def __init__(self, out=2):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 1)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2, out)


def _full_checkpoint(model):
    opt = torch.optim.Adam(model.parameters())
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    opt.step()
    return dict(
        meta=dict(epoch=1, iter=10, cfg='model = dict()', seed=0,
                  lrs=[0.1, 0.01], time=None),
        state_dict=model.state_dict(),
        optimizer=opt.state_dict(),
        message_hub=dict(log_scalars={'train/loss': dict(
            log_history=torch.ones(3), count_history=torch.ones(3),
            max_length=10)}))


def _assert_same(a, b):
    assert type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict))
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b


# ---------------------------------------------------------------- saving
def test_save_load_round_trip_is_pickle_free(tmp_path):
    ckpt = _full_checkpoint(Net())
    path = tmp_path / 'sub' / 'epoch_1.pth'  # parent is created
    assert save_checkpoint(ckpt, path) is None
    # loads without pickle
    _assert_same(torch.load(path, weights_only=True), ckpt)
    _assert_same(_load_checkpoint(str(path)), ckpt)
    assert os.listdir(tmp_path / 'sub') == ['epoch_1.pth']  # no temp left


@pytest.mark.parametrize('meta, where, what', [
    (dict(cfg=np.float64(1.0)), "meta.cfg", 'numpy.float64'),
    (dict(a=[1, object()]), r"meta.a\[1\]", 'builtins.object'),
    (dict(d=OrderedDict(x=1), n=None, s={1}), None, None),
    (dict(r=range(3)), 'meta.r', 'range'),
    ({np.int64(3): 1}, r'meta \(a key\)', 'numpy.int64'),
])
def test_save_refuses_non_plain_values(tmp_path, meta, where, what):
    path = tmp_path / 'x.pth'
    if where is None:  # allowed types
        save_checkpoint(dict(meta=meta), path)
        assert torch.load(path, weights_only=True)['meta'] == meta
        return
    with pytest.raises(TypeError, match=f"{where}.*{what}.*weights_only"):
        save_checkpoint(dict(meta=meta), path)
    assert not path.exists()


def test_check_pickle_free_dict_subclass_and_cycles():

    class MyDict(dict):
        pass

    with pytest.raises(TypeError, match=r"checkpoint\['meta'\].*MyDict"):
        check_pickle_free(dict(meta=MyDict()))
    cyclic = dict(a=[])
    cyclic['a'].append(cyclic)
    check_pickle_free(cyclic)  # terminates


def test_save_argument_errors(tmp_path):
    with pytest.raises(TypeError, match='checkpoint as a dict.*list'):
        save_checkpoint([1], tmp_path / 'x.pth')
    with pytest.raises(TypeError, match='filename must be'):
        save_checkpoint({}, 3)
    with pytest.raises(ValueError, match='cannot be set at the same time'):
        save_checkpoint({}, tmp_path / 'x.pth',
                        file_client_args=dict(backend='local'),
                        backend_args=dict(backend='local'))
    (tmp_path / 'adir').mkdir()
    with pytest.raises(IsADirectoryError, match='adir'):
        save_checkpoint({}, tmp_path / 'adir')
    for async_save in (False, True):  # refused before any background work
        with pytest.raises(ValueError,
                           match="'http://127.0.0.1:9/x.pth'.*HTTPBackend is "
                           'read-only'):
            save_checkpoint({}, 'http://127.0.0.1:9/x.pth',
                            async_save=async_save)


def test_save_is_atomic_on_crash(tmp_path, monkeypatch):
    path = tmp_path / 'latest.pth'
    save_checkpoint(dict(v=torch.zeros(3)), path)
    real_save = torch.save

    def crashing_save(obj, f, *args, **kwargs):
        f.write(b'partial garbage')  # a torn write...
        raise KeyboardInterrupt  # ...then the process is interrupted

    monkeypatch.setattr(torch, 'save', crashing_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(dict(v=torch.ones(3)), path)
    monkeypatch.setattr(torch, 'save', real_save)
    assert torch.equal(_load_checkpoint(path)['v'], torch.zeros(3))
    assert os.listdir(tmp_path) == ['latest.pth']


def test_save_keeps_file_mode(tmp_path):
    path = tmp_path / 'x.pth'
    save_checkpoint({}, path)
    os.chmod(path, 0o640)
    save_checkpoint(dict(a=1), path)
    assert os.stat(path).st_mode & 0o777 == 0o640


class _MemoryBackend(BaseStorageBackend):
    files: dict = {}

    def get(self, filepath):
        return self.files[str(filepath)]

    def get_text(self, filepath):
        return self.get(filepath).decode()

    def put(self, obj, filepath):
        assert isinstance(obj, bytes)
        self.files[str(filepath)] = obj


def test_save_to_other_backend_and_custom_scheme():
    register_backend('h8mem', _MemoryBackend, force=True, prefixes='h8mem')

    def load_from_h8mem(filename, map_location=None, allow_pickle=False):
        import io
        data = _MemoryBackend.files[filename]
        return torch.load(io.BytesIO(data), weights_only=not allow_pickle)

    CheckpointLoader.register_scheme('h8mem://', load_from_h8mem, force=True)
    with pytest.raises(KeyError, match='already registered'):
        CheckpointLoader.register_scheme('h8mem://', load_from_h8mem)
    save_checkpoint(dict(w=torch.arange(3)), 'h8mem://bucket/a.pth')
    assert 'h8mem://bucket/a.pth' in _MemoryBackend.files
    loaded = load_checkpoint('h8mem://bucket/a.pth')
    assert torch.equal(loaded['w'], torch.arange(3))

    @CheckpointLoader.register_scheme(prefixes='h8deco://')
    def load_from_deco(filename, map_location=None, allow_pickle=False):
        return {'from': filename}

    assert _load_checkpoint('h8deco://x') == {'from': 'h8deco://x'}


# ----------------------------------------------------------- async saving
def test_async_save_snapshots_state(tmp_path):
    model = Net()
    shared = torch.arange(6.)
    ckpt = dict(state_dict=model.state_dict(), a=shared, view=shared[2:4],
                same=shared, meta=dict(epoch=3))
    expected = {k: (v.clone() if isinstance(v, torch.Tensor) else v)
                for k, v in ckpt.items()}
    expected['state_dict'] = OrderedDict(
        (k, v.clone()) for k, v in model.state_dict().items())
    handle = save_checkpoint(ckpt, tmp_path / 'a.pth', async_save=True)
    assert isinstance(handle, AsyncCheckpointSave)
    # training goes on and changes the tensors in place
    shared.add_(100)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1)
    handle.wait()
    assert handle.done() and 'done' in repr(handle)
    loaded = torch.load(tmp_path / 'a.pth', weights_only=True)
    _assert_same(loaded['state_dict'], expected['state_dict'])
    assert torch.equal(loaded['a'], torch.arange(6.))
    assert torch.equal(loaded['view'], torch.tensor([2., 3.]))
    # shared storage stays shared, as with torch.save
    assert loaded['view'].untyped_storage().data_ptr() == \
        loaded['a'].untyped_storage().data_ptr()
    assert loaded['meta'] == dict(epoch=3)


def test_async_save_order_callbacks_and_errors(tmp_path):
    done = []
    handles = []
    for i in range(4):  # more than the pending limit
        h = save_checkpoint(dict(i=i), tmp_path / 'same.pth',
                            async_save=True)
        h.add_done_callback(lambda h: done.append(h.filename))
        handles.append(h)
    wait_async_saves()
    for h in handles:
        h.wait()
    assert torch.load(tmp_path / 'same.pth')['i'] == 3  # call order kept
    assert len(done) == 4
    (tmp_path / 'adir').mkdir()
    bad = save_checkpoint({}, tmp_path / 'adir', async_save=True)
    with pytest.raises(IsADirectoryError):
        bad.wait()
    save_checkpoint({}, tmp_path / 'adir', async_save=True)
    with pytest.raises(IsADirectoryError):
        wait_async_saves()
    wait_async_saves()  # nothing pending any more
    # an early failure is still reported after later saves pushed it out
    save_checkpoint({}, tmp_path / 'adir', async_save=True)
    for i in range(4):
        save_checkpoint(dict(i=i), tmp_path / f'{i}.pth', async_save=True)
    with pytest.raises(IsADirectoryError):
        wait_async_saves()
    # the pickle-free check runs before returning
    with pytest.raises(TypeError, match='meta'):
        save_checkpoint(dict(meta=object()), tmp_path / 'b.pth',
                        async_save=True)


# ---------------------------------------------------------------- loading
def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.pth can not be'):
        _load_checkpoint(tmp_path / 'missing.pth')
    with pytest.raises(TypeError, match='str or PathLike'):
        _load_checkpoint(3)
    torn = tmp_path / 'torn.pth'
    torn.write_bytes(b'not a checkpoint')
    with pytest.raises(pickle.UnpicklingError,
                       match='torn.pth.*corrupted, not a torch.save file.*'
                       'Unsupported operand'):
        _load_checkpoint(torn)
    # a half-written zip, an empty file, a directory, an unknown scheme
    good = tmp_path / 'good.pth'
    torch.save(dict(a=torch.ones(3)), good)
    half = tmp_path / 'half.pth'
    half.write_bytes(good.read_bytes()[:good.stat().st_size // 2])
    with pytest.raises(RuntimeError, match='half.pth.*written by torch.save'):
        _load_checkpoint(half)
    text = tmp_path / 'text.pth'
    text.write_text('hello')  # torch.load raises a bare KeyError here
    with pytest.raises(RuntimeError, match='text.pth.*KeyError: 101'):
        _load_checkpoint(text)
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(RuntimeError, match=r'empty.pth.*empty \(0 bytes\)'):
        _load_checkpoint(empty)
    with pytest.raises(IsADirectoryError, match='is a directory'):
        _load_checkpoint(tmp_path)
    with pytest.raises(FileNotFoundError,
                       match="no checkpoint loader.*'http://'"):
        _load_checkpoint('foo://bucket/x.pth')


class Custom:

    def __init__(self, x):
        self.x = x


def test_loading_pickle_needs_opt_in(tmp_path):
    path = tmp_path / 'pickled.pth'
    torch.save(dict(obj=Custom(3)), path)
    with pytest.raises(pickle.UnpicklingError,
                       match='pickled.pth.*without pickle.*arbitrary Python '
                       'objects.*Unsupported global.*Custom.*allow_pickle=True'
                       ):
        _load_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError, match='allow_pickle=True'):
        load_checkpoint(Net(), path)
    assert _load_checkpoint(path, allow_pickle=True)['obj'].x == 3


def test_load_checkpoint_into_model(tmp_path):
    src = Net()
    wrapped = nn.DataParallel(src)  # keys get a 'module.' prefix
    path = tmp_path / 'w.pth'
    save_checkpoint(dict(state_dict=wrapped.state_dict(), meta={}), path)
    dst = Net()
    ckpt = load_checkpoint(dst, path, map_location='cpu', strict=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v)
    # a bare state dict works too; revise_keys renames
    save_checkpoint(dict(src.state_dict()), path)
    dst = nn.Sequential(OrderedDict(backbone=Net()))
    load_checkpoint(dst, path, strict=True,
                    revise_keys=[(r'^', 'backbone.')])
    assert torch.equal(dst.backbone.fc.weight, src.fc.weight)
    # into a wrapped model
    dst_wrapped = nn.DataParallel(Net())
    load_checkpoint(dst_wrapped, path, strict=True)
    assert torch.equal(dst_wrapped.module.fc.bias, src.fc.bias)
    with pytest.raises(TypeError, match='filename is missing'):
        load_checkpoint(Net())
    with pytest.raises(TypeError, match='model must be an nn.Module'):
        load_checkpoint('a', 'b')
    # bad revise_keys are refused before the file is read
    missing = tmp_path / 'not_there.pth'
    with pytest.raises(TypeError, match='single pair must be wrapped'):
        load_checkpoint(dst, missing, revise_keys=(r'^module\.', ''))
    with pytest.raises(TypeError, match=r"got the item \('a',\)"):
        load_checkpoint(dst, missing, revise_keys=[('a', )])
    with pytest.raises(ValueError, match="'\\(' is not a valid regular"):
        load_checkpoint(dst, missing, revise_keys=[('(', '')])


def test_load_state_dict_reports(caplog):
    src, dst = Net(out=2), Net(out=3)
    state = src.state_dict()
    state['extra.weight'] = torch.zeros(1)
    del state['conv.bias']
    del state['bn.num_batches_tracked']  # not reported
    logger = logging.getLogger('h8-test')
    with caplog.at_level(logging.WARNING, logger='h8-test'):
        load_state_dict(dst, state, logger=logger)
    text = caplog.text
    assert 'unexpected key in source state_dict: extra.weight' in text
    assert 'missing keys in source state_dict: conv.bias' in text
    assert 'num_batches_tracked' not in text
    assert 'size mismatch for fc.weight' in text
    # what fits was loaded despite the mismatch
    assert torch.equal(dst.conv.weight, src.conv.weight)
    with pytest.raises(RuntimeError, match='size mismatch for fc.bias'):
        load_state_dict(Net(out=3), state, strict=True)
    with pytest.raises(TypeError, match='state_dict must be a dict'):
        load_state_dict(dst, [1])
    with pytest.raises(TypeError, match='a checkpoint must be a dict'):
        _load_checkpoint_to_model(dst, [1])


def test_load_state_dict_runs_post_hooks():
    model = Net()
    seen = []
    model.register_load_state_dict_post_hook(
        lambda module, keys: seen.append(list(keys.unexpected_keys)))
    load_state_dict(model, dict(Net().state_dict(), junk=torch.ones(1)))
    assert seen == [['junk']]


def test_get_state_dict_and_weights_to_cpu():
    inner = Net()
    model = nn.Sequential(OrderedDict(a=nn.DataParallel(inner),
                                      b=nn.Linear(1, 1)))
    state = get_state_dict(nn.DataParallel(model))
    assert set(state) == {f'a.{k}' for k in inner.state_dict()} | {
        'b.weight', 'b.bias'}
    assert 'a' in state._metadata
    plain = get_state_dict(inner)
    assert list(plain) == list(inner.state_dict())
    nested = OrderedDict(x=torch.ones(1), y=dict(z=[torch.zeros(2)]))
    nested._metadata = OrderedDict({'': {'version': 1}})
    cpu = weights_to_cpu(nested)
    assert cpu._metadata == nested._metadata
    assert torch.equal(cpu['y']['z'][0], torch.zeros(2))


def test_find_latest_checkpoint(tmp_path):
    assert find_latest_checkpoint(tmp_path) is None
    for name in ('epoch_2.pth', 'epoch_10.pth', 'best_acc.pth'):
        (tmp_path / name).write_bytes(b'x')
    # no marker: the largest epoch number wins
    assert find_latest_checkpoint(tmp_path) == str(tmp_path / 'epoch_10.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    assert find_latest_checkpoint(tmp_path) == str(tmp_path / 'epoch_2.pth')
    # the marker names a file of a moved work dir: use the one beside it
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/epoch_2.pth')
    assert find_latest_checkpoint(tmp_path) == str(tmp_path / 'epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/gone.pth')
    assert find_latest_checkpoint(tmp_path) == str(tmp_path / 'epoch_10.pth')


# ------------------------------------------------------------ URL schemes
@pytest.fixture
def http_server(tmp_path):
    root = tmp_path / 'www'
    root.mkdir()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05, ), daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_load_from_http_with_cache(http_server, tmp_path, monkeypatch):
    for key in ('http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'):
        monkeypatch.delenv(key, raising=False)
    root, url = http_server
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    save_checkpoint(dict(state_dict=Net().state_dict()), root / 'net.pth')
    model = Net()
    ckpt = load_checkpoint(model, f'{url}/net.pth', strict=True)
    assert 'state_dict' in ckpt
    cached = tmp_path / 'hub' / 'checkpoints' / 'net.pth'
    assert cached.is_file()
    os.remove(root / 'net.pth')  # served from the cache now
    assert set(_load_checkpoint(f'{url}/net.pth')) == {'state_dict'}
    cached.write_bytes(b'PK\x03\x04 torn')  # a bad cached copy is named
    with pytest.raises(RuntimeError, match='net.pth.*cached at .*hub'):
        _load_checkpoint(f'{url}/net.pth')
    with pytest.raises(FileNotFoundError):
        _load_checkpoint(f'{url}/absent.pth')


def test_torchvision_and_openmmlab_schemes(tmp_path, monkeypatch):
    try:
        import torchvision  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match='pip install torchvision'):
            _load_checkpoint('torchvision://resnet50')
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path))
    with pytest.raises(ValueError, match="unknown model name 'resnet50_v1c'"):
        _load_checkpoint('open-mmlab://resnet50_v1c')
    save_checkpoint(dict(a=torch.ones(1)), tmp_path / 'local.pth')
    (tmp_path / 'open_mmlab.json').write_text(
        json.dumps(dict(mine='local.pth')))
    assert torch.equal(
        _load_checkpoint('openmmlab://mine')['a'], torch.ones(1))


def test_top_level_aliases(tmp_path):
    import mmengine
    path = osp.join(tmp_path, 'x.pth')
    mmengine.save_checkpoint(dict(a=1), path)
    assert mmengine.load_checkpoint(path) == dict(a=1)
    assert ckpt_module.load_checkpoint is mmengine.load_checkpoint


def test_async_buffers_reused_without_mixing_files(tmp_path):
    state = dict(w=torch.zeros(1000), b=torch.zeros(10))
    for i in range(3):
        state['w'].fill_(i)
        save_checkpoint(state, tmp_path / f'{i}.pth', async_save=True)
        wait_async_saves()  # buffers go back to the pool and are reused
    wait_async_saves(free_buffers=True)
    for i in range(3):
        loaded = torch.load(tmp_path / f'{i}.pth', weights_only=True)
        assert torch.equal(loaded['w'], torch.full((1000, ), float(i)))


def test_fsync_error_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'x.pth'
    save_checkpoint(dict(v=0), path)

    def failing_datasync(fd):
        raise OSError(5, 'Input/output error')

    monkeypatch.setattr(ckpt_module._WriteBehindFile, '_CHUNK', 1)
    monkeypatch.setattr(ckpt_module._WriteBehindFile, '_datasync',
                        staticmethod(failing_datasync))
    with pytest.raises(OSError, match='Input/output error'):
        save_checkpoint(dict(v=torch.ones(100)), path)
    assert _load_checkpoint(path) == dict(v=0)
    assert os.listdir(tmp_path) == ['x.pth']


def test_deprecated_file_client_args(tmp_path):
    path = tmp_path / 'fc.pth'
    with pytest.warns(DeprecationWarning):
        save_checkpoint(dict(a=1), path, file_client_args=dict(backend='disk'))
    assert _load_checkpoint(path) == dict(a=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_async_save_of_cuda_tensors(tmp_path):
    weight = torch.arange(1 << 20, dtype=torch.float32, device='cuda')
    handle = save_checkpoint(dict(w=weight, view=weight[:4]),
                             tmp_path / 'g.pth', async_save=True)
    weight.add_(1)  # enqueued after the copy on the same stream
    handle.wait()
    loaded = torch.load(tmp_path / 'g.pth', weights_only=True)
    assert loaded['w'].device.type == 'cpu'
    assert torch.equal(loaded['w'], torch.arange(1 << 20).float())
    assert torch.equal(loaded['view'], torch.arange(4).float())
