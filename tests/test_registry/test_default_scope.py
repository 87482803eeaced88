"""Tests of ``DefaultScope`` and ``init_default_scope``."""
import logging
import threading

import pytest

from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope, Registry, init_default_scope


@pytest.fixture(autouse=True)
def clean_default_scope():
    saved = dict(DefaultScope._instance_dict)
    DefaultScope._instance_dict.clear()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


def test_current_instance_none_then_latest():
    assert DefaultScope.get_current_instance() is None
    DefaultScope.get_instance('a', scope_name='mmdet')
    DefaultScope.get_instance('b', scope_name='mmpretrain')
    assert DefaultScope.get_current_instance().scope_name == 'mmpretrain'
    assert DefaultScope.get_instance('a').scope_name == 'mmdet'


def test_scope_name_must_be_str():
    with pytest.raises(TypeError, match='scope_name should be a str'):
        DefaultScope.get_instance('bad', scope_name=1)


def test_overwrite_default_scope():
    with DefaultScope.overwrite_default_scope(None):
        assert DefaultScope.get_current_instance() is None
    with DefaultScope.overwrite_default_scope('x'):
        assert DefaultScope.get_current_instance().scope_name == 'x'
    assert DefaultScope._instance_dict == {}

    DefaultScope.get_instance('base', scope_name='base')
    with DefaultScope.overwrite_default_scope('x'):
        with DefaultScope.overwrite_default_scope('y'):
            assert DefaultScope.get_current_instance().scope_name == 'y'
        assert DefaultScope.get_current_instance().scope_name == 'x'
    assert DefaultScope.get_current_instance().scope_name == 'base'

    # an instance created inside survives, but 'base' is current again
    with pytest.raises(RuntimeError):
        with DefaultScope.overwrite_default_scope('x'):
            DefaultScope.get_instance('inside', scope_name='inside')
            raise RuntimeError('boom')
    assert DefaultScope.get_current_instance().scope_name == 'base'
    assert DefaultScope.check_instance_created('inside')
    assert list(DefaultScope._instance_dict) == ['inside', 'base']


def test_instance_created_inside_overwrite_is_current_there():
    DefaultScope.get_instance('base', scope_name='base')
    with DefaultScope.overwrite_default_scope('x'):
        DefaultScope.get_instance('runner', scope_name='mmdet')
        assert DefaultScope.get_current_instance().scope_name == 'mmdet'
        with DefaultScope.overwrite_default_scope('y'):
            assert DefaultScope.get_current_instance().scope_name == 'y'
        assert DefaultScope.get_current_instance().scope_name == 'mmdet'
    assert DefaultScope.get_current_instance().scope_name == 'base'


def test_overwrite_default_scope_is_per_thread():
    """Concurrent builds with different ``_scope_`` do not see each
    other's scope; a global scope stays visible to every thread."""
    root = Registry('m', scope='thread_root')
    a = Registry('m', parent=root, scope='thread_a')
    b = Registry('m', parent=root, scope='thread_b')
    inside = threading.Barrier(2, timeout=5)

    for child in (a, b):

        @child.register_module(name='Inner')
        class Inner:
            scope = child.scope

        @child.register_module(name='Outer')
        class Outer:

            def __init__(self):
                # both threads are inside their _scope_ switch here
                inside.wait()
                self.seen = DefaultScope.get_current_instance().scope_name
                self.inner = root.build(dict(type='Inner'))

    results = {}

    def build(scope):
        outer = root.build(dict(type='Outer', _scope_=scope))
        results[scope] = (outer.seen, outer.inner.scope)

    DefaultScope.get_instance('global', scope_name='thread_root')
    threads = [
        threading.Thread(target=build, args=(s, ))
        for s in ('thread_a', 'thread_b')
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {
        'thread_a': ('thread_a', 'thread_a'),
        'thread_b': ('thread_b', 'thread_b')
    }
    assert DefaultScope.get_current_instance().scope_name == 'thread_root'
    assert list(DefaultScope._instance_dict) == ['global']

    seen = []
    with DefaultScope.overwrite_default_scope('thread_a'):
        other = threading.Thread(target=lambda: seen.append(
            DefaultScope.get_current_instance().scope_name))
        other.start()
        other.join()
    assert seen == ['thread_root']  # another thread keeps the global scope

    # a global scope made by another thread during the block stays current
    with DefaultScope.overwrite_default_scope('thread_a'):
        other = threading.Thread(target=lambda: DefaultScope.get_instance(
            'other-runner', scope_name='mmdet'))
        other.start()
        other.join()
    assert DefaultScope.get_current_instance().scope_name == 'mmdet'


def test_init_default_scope():
    init_default_scope('mmdet')
    assert DefaultScope.get_current_instance().scope_name == 'mmdet'
    assert DefaultScope.check_instance_created('mmdet')
    init_default_scope('mmdet')  # already current: nothing new
    assert len(DefaultScope._instance_dict) == 1

    DefaultScope.get_instance('other', scope_name='test')
    with pytest.raises(TypeError):
        init_default_scope(3)
    logger = MMLogger.get_current_instance()
    records = []

    class Collect(logging.Handler):

        def emit(self, record):
            records.append((record.levelno, record.getMessage()))

    handler = Collect(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        init_default_scope('mmdet')
    finally:
        logger.removeHandler(handler)
    assert DefaultScope.get_current_instance().scope_name == 'mmdet'
    assert len(records) == 1 and records[0][0] == logging.WARNING
    assert 'The current default scope "test" is not "mmdet"' in \
        records[0][1]
