"""Tests of ``traverse_registry_tree`` and ``count_registered_modules``."""
import json
import os.path as osp

from mmengine.registry import (Registry, count_registered_modules, root,
                               traverse_registry_tree)


def test_traverse_registry_tree():
    dogs = Registry('dogs', scope='dog')
    hounds = Registry('dogs', parent=dogs, scope='hound')
    Registry('dogs', parent=hounds, scope='little_hound')
    mid = Registry('dogs', parent=hounds, scope='mid_hound')
    samoyeds = Registry('dogs', parent=dogs, scope='samoyed')
    Registry('dogs', parent=samoyeds, scope='little_samoyed')

    @dogs.register_module()
    class GoldenRetriever:
        pass

    @dogs.register_module(name='golden_fn')
    def golden():
        pass

    result = traverse_registry_tree(dogs, verbose=False)
    assert [r['scope'] for r in result] == [
        'dog', 'hound', 'little_hound', 'mid_hound', 'samoyed',
        'little_samoyed'
    ]
    assert result[0]['num_modules'] == 2
    folder = '/'.join(__name__.split('.')[:-1]) or __name__
    assert result[0]['modules'] == {folder: ['GoldenRetriever', 'golden_fn']}
    assert all(r['num_modules'] == 0 for r in result[1:])
    # the same from any node of the tree
    assert traverse_registry_tree(mid, verbose=False) == result


def test_count_registered_modules(tmp_path, capsys):
    results = count_registered_modules(str(tmp_path), verbose=True)
    json_path = osp.join(tmp_path, 'modules_statistic_results.json')
    with open(json_path) as f:
        saved = json.load(f)
    assert saved == results
    assert len(results['scan_date']) == 14
    assert set(results['registries']) == set(root.ROOT_REGISTRY_NAMES)
    for name, info in results['registries'].items():
        registry = getattr(root, name)
        assert info[0]['scope'] == 'mmengine'
        assert info[0]['num_modules'] == len(registry.module_dict)
    assert 'Finish registry analysis' in capsys.readouterr().out

    out_dir = tmp_path / 'not_written'
    count_registered_modules(save_path=None, verbose=False)
    assert not out_dir.exists()
    assert capsys.readouterr().out.count('Finish registry analysis') == 0
