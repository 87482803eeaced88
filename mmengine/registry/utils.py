"""Registry helpers: tree reports and default-scope initialisation."""
import datetime
import logging
import os
import os.path as osp
from typing import Dict, List, Optional

from . import root
from ._log import log
from .default_scope import DefaultScope
from .registry import Registry


def traverse_registry_tree(registry: Registry,
                           verbose: bool = True) -> List[dict]:
    """Describe every registry in the tree that ``registry`` belongs to.

    The walk starts at the root, whichever node is passed, and visits
    children depth-first.

    Args:
        registry (Registry): Any registry of the tree.
        verbose (bool): Log each registry's summary. Defaults to True.

    Returns:
        list[dict]: One dict per registry with ``name``, ``scope``,
        ``num_modules`` and ``modules`` (package path -> registered names).
    """
    results: List[dict] = []

    def visit(node: Registry) -> None:
        modules: Dict[str, List[str]] = {}
        for name, obj in node.module_dict.items():
            module = getattr(obj, '__module__', None) or '<unknown>'
            # group by package: 'mmengine/hooks' for mmengine.hooks.x_hook
            folder = '/'.join(module.split('.')[:-1]) or module
            modules.setdefault(folder, []).append(name)
        info = dict(
            name=node.name,
            scope=node.scope,
            num_modules=len(node.module_dict),
            modules=modules)
        results.append(info)
        if verbose:
            log(f'Find {info["num_modules"]} modules in {node.scope}\'s '
                f'"{node.name}" registry: {modules}', logging.INFO)
        for child in node.children.values():
            visit(child)

    visit(registry.root)
    return results


def count_registered_modules(save_path: Optional[str] = None,
                             verbose: bool = True) -> dict:
    """Report the modules registered in every MMEngine root registry tree.

    Each root's ``locations`` are imported first so the counts include the
    built-in members.

    Args:
        save_path (str, optional): Folder to write
            ``modules_statistic_results.json`` to. Not saved if None.
        verbose (bool): Log the report. Defaults to True.

    Returns:
        dict: ``scan_date`` (``%Y%m%d%H%M%S``) and ``registries`` (root
        registry name -> :func:`traverse_registry_tree` result).
    """
    registries_info = {}
    for attr in root.ROOT_REGISTRY_NAMES:
        registry = getattr(root, attr)
        registry.import_from_location()
        registries_info[attr] = traverse_registry_tree(registry, verbose)
    scan_data = dict(
        scan_date=datetime.datetime.now().strftime('%Y%m%d%H%M%S'),
        registries=registries_info)
    if verbose:
        log(f'Finish registry analysis, got: {scan_data}', logging.INFO)
    if save_path is not None:
        import json
        os.makedirs(save_path, exist_ok=True)
        json_path = osp.join(save_path, 'modules_statistic_results.json')
        with open(json_path, 'w', encoding='utf-8') as f:
            json.dump(scan_data, f, indent=2)
        if verbose:
            log(f'Result has been saved to {json_path}', logging.INFO)
    return scan_data


def init_default_scope(scope: str) -> None:
    """Make ``scope`` the current default scope.

    Creates a ``DefaultScope`` instance named ``scope`` if none exists. If
    another scope is current, it is replaced, with a warning, since builds
    that relied on it will now resolve names elsewhere.

    Args:
        scope (str): The scope, e.g. ``'mmdet'``.
    """
    if not isinstance(scope, str):
        raise TypeError(f'scope should be a str, but got {type(scope)}')
    current = DefaultScope.get_current_instance()
    if current is not None and current.scope_name == scope:
        return
    if current is not None:
        log(f'The current default scope "{current.scope_name}" is not '
            f'"{scope}", `init_default_scope` will force set the current '
            f'default scope to "{scope}".', logging.WARNING)
    name = scope
    if DefaultScope.check_instance_created(name):
        name = f'{scope}-{datetime.datetime.now()}'
    DefaultScope.get_instance(name, scope_name=scope)
