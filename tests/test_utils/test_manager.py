import threading

import pytest

from mmengine.utils import ManagerMeta, ManagerMixin


class GlobalClass(ManagerMixin):

    def __init__(self, name, value=0):
        super().__init__(name)
        self.value = value


class OtherClass(ManagerMixin):

    def __init__(self, name=''):
        super().__init__(name)


def test_meta_requires_name_argument():
    with pytest.raises(AssertionError, match='name'):

        class NoName(metaclass=ManagerMeta):

            def __init__(self, a):
                pass

    class WithName(metaclass=ManagerMeta):

        def __init__(self, name):
            self.name = name

    assert WithName._instance_dict == {}


def test_instance_name_and_validation():
    assert ManagerMixin('abc').instance_name == 'abc'
    with pytest.raises(AssertionError):
        ManagerMixin('')
    with pytest.raises(AssertionError, match='str'):
        GlobalClass.get_instance(name=1)


def test_get_instance_and_current_instance():
    # EX-MM-01
    with pytest.raises(RuntimeError, match='get_instance'):
        GlobalClass.get_current_instance()
    GlobalClass.get_instance('mmengine', value=50)
    GlobalClass.get_instance('experiment', value=100)
    assert GlobalClass.get_current_instance().value == 100
    assert GlobalClass.get_instance('mmengine').value == 50
    # extra kwargs for an existing instance: warned and ignored
    with pytest.warns(UserWarning, match='mmengine'):
        inst = GlobalClass.get_instance('mmengine', value=1000)
    assert inst.value == 50
    # looking up an old instance does not change the current one
    assert GlobalClass.get_current_instance().instance_name == 'experiment'
    assert GlobalClass.check_instance_created('mmengine')
    assert not GlobalClass.check_instance_created('missing')


def test_tables_are_per_class():
    OtherClass.get_instance('only_other')
    assert not GlobalClass.check_instance_created('only_other')
    assert OtherClass._instance_dict is not GlobalClass._instance_dict


def test_thread_safe_creation():

    class Counted(ManagerMixin):
        created = 0

        def __init__(self, name):
            super().__init__(name)
            type(self).created += 1

    barrier = threading.Barrier(8)
    results = []

    def worker():
        barrier.wait()
        results.append(Counted.get_instance('shared'))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counted.created == 1
    assert all(r is results[0] for r in results)
