"""Deterministic Python source writer for ``Config.pretty_text``/``dump``.

The output is valid Python that reads back to an equal config:

* one ``name = value`` assignment per top-level key, in the config's order;
* mappings whose keys are all identifiers are written ``dict(a=1, b=2)``,
  other mappings as ``{'a.b': 1, 2: 3}`` literals;
* a value is written on one line when the line fits in ``line_width``
  characters; otherwise its container is opened, each item goes on its own
  line indented by 4 spaces, followed by a comma, and the closing bracket
  gets its own line (the same input always gives the same text);
* lazily imported objects of pure-Python configs, and classes/functions
  stored in a config, are written by name, with the needed ``import``
  lines at the top.

No third-party formatter is used, so a formatter release cannot change or
break config dumps.
"""
import keyword
import math
import warnings
from typing import Any, Dict, List, Optional, Tuple

from .lazy import LazyAttr, LazyObject

INDENT = '    '


def _is_identifier(key: Any) -> bool:
    return (isinstance(key, str) and key.isidentifier()
            and not keyword.iskeyword(key))


class _Imports:
    """Collects the import lines needed for lazy objects and classes."""

    def __init__(self, reserved: set):
        # names already bound: top-level keys and names bound by imports
        self.bound = set(reserved)
        self.names: Dict[Tuple[str, Optional[str]], str] = {}
        self.lines: List[str] = []

    def _free(self, name: str) -> str:
        candidate, i = name, 1
        while candidate in self.bound:
            candidate = f'{name}_{i}'
            i += 1
        return candidate

    def ref(self, module: str, imported: Optional[str]) -> str:
        """Name to write for ``module`` or ``module.imported``."""
        key = (module, imported)
        if key in self.names:
            return self.names[key]
        if imported is None:
            # ``import a.b as b`` binds exactly the module ``a.b``, so the
            # text reads back to the same lazy object
            top, _, last = module.rpartition('.')
            name = self._free(last if top else module)
            if name == module:
                line = f'import {module}'
            else:
                line = f'import {module} as {name}'
            self.bound.add(name)
        else:
            name = self._free(imported)
            line = f'from {module} import {imported}'
            if name != imported:
                line += f' as {name}'
            self.bound.add(name)
        self.names[key] = name
        self.lines.append(line)
        return name


class PyFormatter:
    """Writes a config mapping as Python source.

    Args:
        line_width (int): preferred maximum line length. Defaults to 79.
        sort_keys (bool): sort mapping keys (used by ``Config.diff``).
    """

    def __init__(self, line_width: int = 79, sort_keys: bool = False):
        self.line_width = line_width
        self.sort_keys = sort_keys

    def format(self, cfg: dict) -> str:
        """Return the Python text for the top-level mapping ``cfg``."""
        for key in cfg:
            if not _is_identifier(key):
                raise ValueError(
                    f'config key {key!r} is not a valid Python identifier, '
                    'so the config cannot be written as a .py file; dump it '
                    'to .json or .yaml instead')
        self._imports = _Imports(set(cfg))
        body = []
        for key, value in self._items(cfg):
            self._path = [key]
            body.append(self._assign(key, value))
        text = ''.join(body)
        if self._imports.lines:
            text = '\n'.join(self._imports.lines) + '\n\n' + text
        return text

    # ----------------------------------------------------------------
    def _items(self, mapping: dict):
        items = list(dict.items(mapping))
        if self.sort_keys:
            try:
                items.sort(key=lambda kv: kv[0])
            except TypeError:
                items.sort(key=lambda kv: repr(kv[0]))
        return items

    def _assign(self, key: str, value: Any) -> str:
        prefix = f'{key} = '
        return prefix + self._value(value, len(prefix), 0) + '\n'

    def _value(self, value: Any, used: int, level: int) -> str:
        """Text of ``value`` whose first line starts after ``used`` chars,
        at indentation ``level``."""
        flat = self._flat(value)
        if flat is not None and used + len(flat) <= self.line_width:
            return flat
        opening, closing, entries = self._open(value)
        if opening is None:  # not a container: cannot be split
            return flat if flat is not None else self._scalar(value)
        if not entries:
            return opening + closing
        inner = INDENT * (level + 1)
        lines = [opening]
        for head, item in entries:
            # + 1: the comma that follows the item
            text = self._value(item,
                               len(inner) + len(head) + 1, level + 1)
            lines.append(f'{inner}{head}{text},')
        lines.append(INDENT * level + closing)
        return '\n'.join(lines)

    def _open(self, value: Any):
        """(opening, closing, [(head, item)]) for a container value."""
        if isinstance(value, dict):
            items = self._items(value)
            if all(_is_identifier(k) for k, _ in items):
                return 'dict(', ')', [(f'{k}=', v) for k, v in items]
            return '{', '}', [(f'{self._key(k)}: ', v) for k, v in items]
        if isinstance(value, list):
            return '[', ']', [('', v) for v in value]
        if type(value) is tuple:
            return '(', ')', [('', v) for v in value]
        return None, None, None

    def _key(self, key: Any) -> str:
        flat = self._flat(key)
        if flat is None:
            raise TypeError(f'cannot write the mapping key {key!r} of type '
                            f'{type(key).__name__} as Python')
        return flat

    def _flat(self, value: Any) -> Optional[str]:
        """One-line text of ``value``."""
        if isinstance(value, dict):
            items = self._items(value)
            if all(_is_identifier(k) for k, _ in items):
                return 'dict(' + ', '.join(
                    f'{k}={self._flat(v)}' for k, v in items) + ')'
            return '{' + ', '.join(f'{self._key(k)}: {self._flat(v)}'
                                   for k, v in items) + '}'
        if isinstance(value, list):
            return '[' + ', '.join(self._flat(v) for v in value) + ']'
        if type(value) is tuple:
            if len(value) == 1:
                return f'({self._flat(value[0])},)'
            return '(' + ', '.join(self._flat(v) for v in value) + ')'
        return self._scalar(value)

    def _scalar(self, value: Any) -> str:
        if value is None or isinstance(value, (bool, int, str, bytes)):
            return repr(value)
        if isinstance(value, float):
            if math.isnan(value):
                return "float('nan')"
            if math.isinf(value):
                return "float('inf')" if value > 0 else "-float('inf')"
            return repr(value)
        if isinstance(value, (set, frozenset)):
            items = sorted((self._flat(v) for v in value))
            if not items:
                return f'{type(value).__name__}()'
            text = '{' + ', '.join(items) + '}'
            return text if isinstance(value, set) else f'frozenset({text})'
        if isinstance(value, tuple):  # named tuples and other subclasses
            return self._by_name(type(value)) + '(' + ', '.join(
                self._flat(v) for v in value) + ')'
        if isinstance(value, LazyObject):
            return self._imports.ref(value.module, value.imported)
        if isinstance(value, LazyAttr):
            return f'{self._scalar(value.source)}.{value.name}'
        if isinstance(value, type) or callable(value) and hasattr(
                value, '__qualname__'):
            ref = self._by_name(value, strict=False)
            if ref is not None:
                return ref
        warnings.warn(
            f'config value under key {self._path[0]!r} of type '
            f'{type(value).__name__} cannot be written as Python; its repr '
            'is written as a string instead', UserWarning)
        return repr(repr(value))

    def _by_name(self, obj: Any, strict: bool = True) -> Optional[str]:
        module = getattr(obj, '__module__', None)
        qualname = getattr(obj, '__qualname__', None)
        # ``__config__``: defined inside a config file, not importable
        if (not module or not qualname or '<' in qualname
                or module in ('__main__', '__config__')):
            if strict:
                raise TypeError(f'cannot write {obj!r} as Python')
            return None
        if module == 'builtins':
            return qualname
        head, _, rest = qualname.partition('.')
        name = self._imports.ref(module, head)
        return f'{name}.{rest}' if rest else name


def format_config(cfg: dict, sort_keys: bool = False) -> str:
    """Write the top-level config mapping ``cfg`` as Python source."""
    return PyFormatter(sort_keys=sort_keys).format(cfg)
