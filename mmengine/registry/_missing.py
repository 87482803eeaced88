"""The message of the ``KeyError`` raised when a registry lacks a name.

It says where the name was searched, which import locations were tried (and
why they failed), and which registered names are close, so that a typo, a
missing scope prefix and a module that was never imported are each told
apart at a glance.
"""
import difflib
from typing import TYPE_CHECKING, Dict, List

if TYPE_CHECKING:
    from .registry import Registry


def search_chain(registry: 'Registry', key: str) -> List['Registry']:
    """The registries a lookup of ``key`` in ``registry`` searches, in order.

    Mirrors ``Registry._lookup``: an unprefixed key walks up the ancestors; a
    prefixed key goes to the child, the root or a child of the root with that
    scope.
    """
    scope, real_key = registry.split_scope_key(key)
    if scope is None:
        chain, node = [], registry
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain
    if scope == registry.scope:
        return [registry]
    if scope in registry.children:
        return search_chain(registry.children[scope], real_key)
    root = registry.root
    if scope == root.scope:
        return [root]
    if scope in root.children:
        return search_chain(root.children[scope], real_key)
    return []


def suggestions(registry: 'Registry', real_key: str,
                chain: List['Registry']) -> List[str]:
    """Registered names close to ``real_key`` (case-insensitive).

    Names visible without a prefix come as they are; names of the other
    registries of the tree come with their scope prefix, so a name that
    exists only in a sibling library is suggested as ``'scope.Name'``.
    """
    display: Dict[str, List[str]] = {}
    for node in chain:
        for name in node.module_dict:
            display.setdefault(name.lower(), []).append(name)
    for node in registry.root._iter_tree():
        if any(node is searched for searched in chain):
            continue
        for name in node.module_dict:
            display.setdefault(name.lower(), []).append(f'{node.scope}.{name}')
    close = difflib.get_close_matches(
        real_key.lower(), list(display), n=3, cutoff=0.6)
    result: List[str] = []
    for name in close:
        for shown in display[name]:
            if shown not in result:
                result.append(shown)
    return result[:5]


def describe_missing(registry: 'Registry', key: str) -> str:
    """Explain why ``key`` is not found in ``registry``."""
    scope, real_key = registry.split_scope_key(key)
    chain = search_chain(registry, key)
    # Single quotes only: KeyError shows its message with repr(), which would
    # escape a mix of quote kinds.
    lines = [f"'{key}' is not in the '{registry.name}' registry "
             f"(scope '{registry.scope}')."]
    if chain:
        lines.append('Searched scopes: ' +
                     ' -> '.join(repr(node.scope) for node in chain) + '.')
    else:
        tree_scopes = [node.scope for node in registry.root._iter_tree()]
        lines.append(f"No registry with scope '{scope}' exists in this "
                     f'registry tree (scopes: {tree_scopes}); is the package '
                     f"'{scope}' installed and imported?")
    tried = [(location, node._location_errors.get(location))
             for node in chain for location in node.locations]
    if tried:
        lines.append('Import locations tried: ' + ', '.join(
            f'{location} (failed: {error})' if error else location
            for location, error in tried) + '.')
    elif chain:
        lines.append('Import locations: none set.')
    close = suggestions(registry, real_key, chain)
    if close:
        lines.append('Did you mean ' + ' or '.join(map(repr, close)) + '?')
    lines.append('Make sure the module that registers it (with '
                 '`@REGISTRY.register_module()`) is imported: list it in the '
                 '`locations` of the registry or in `custom_imports` of the '
                 'config.')
    return ' '.join(lines)
