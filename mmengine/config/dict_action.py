"""``DictAction``: the ``--cfg-options key=value`` argparse action."""
import copy
from argparse import Action, ArgumentError, ArgumentParser, Namespace
from typing import Any, List, Optional, Sequence, Union

_FORMS = ('expected KEY=VALUE, where VALUE is an int, float, bool '
          '(True/False), None, a string, a list "[a,b]" or a,b, a tuple '
          '"(a,b)", or nested brackets like "[(a,b),(c,d)]"')


class CfgOptionsError(AssertionError, ValueError):
    """A malformed ``--cfg-options`` value (e.g. unbalanced brackets)."""


class DictAction(Action):
    """argparse action that collects ``KEY=VALUE`` tokens into a dict.

    ``parser.add_argument('--cfg-options', nargs='+', action=DictAction)``
    makes ``args.cfg_options`` a dict such as ``{'optimizer.lr': 0.1}``
    (``None`` when the option is absent), ready for
    :meth:`Config.merge_from_dict`. Repeating the option accumulates the
    pairs; a repeated key keeps the last value.

    Values are parsed as int, float, bool (``True``/``False``, any case),
    ``None`` or str; ``[a,b]`` or a bare ``a,b`` gives a list, ``(a,b)`` a
    tuple, and brackets nest (``[(a,b),[1,2],false]``). Quotes around a
    value or an element are removed; spaces around elements are ignored.
    """

    @staticmethod
    def _parse_int_float_bool(val: str) -> Union[int, float, bool, Any]:
        """Parse a scalar: int, then float, then bool/None, else str."""
        try:
            return int(val)
        except ValueError:
            pass
        try:
            return float(val)
        except ValueError:
            pass
        if val.lower() in ('true', 'false'):
            return val.lower() == 'true'
        if val == 'None':
            return None
        return val

    @staticmethod
    def _parse_iterable(val: str) -> Union[list, tuple, Any]:
        """Parse a value that may be a (nested) list or tuple.

        Examples:
            >>> DictAction._parse_iterable('1,2,3')
            [1, 2, 3]
            >>> DictAction._parse_iterable('[a, b, c]')
            ['a', 'b', 'c']
            >>> DictAction._parse_iterable('[(1, 2, 3), [a, b], c]')
            [(1, 2, 3), ['a', 'b'], 'c']
        """
        if not _brackets_match(val):
            raise CfgOptionsError(
                f'Imbalanced brackets exist in {val!r}: {_FORMS}')

        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] and val[0] in '\'"':
            val = val[1:-1].strip()
        is_tuple = False
        if val.startswith('(') and val.endswith(')') and _closes_at_end(val):
            is_tuple = True
            val = val[1:-1]
        elif val.startswith('[') and val.endswith(']') and \
                _closes_at_end(val):
            val = val[1:-1]
        elif ',' not in val:
            return DictAction._parse_int_float_bool(val)

        values = []
        if val.strip():
            for element in _split_top_level(val):
                values.append(DictAction._parse_iterable(element))
        return tuple(values) if is_tuple else values

    def __call__(self,
                 parser: ArgumentParser,
                 namespace: Namespace,
                 values: Union[str, Sequence[Any], None],
                 option_string: Optional[str] = None) -> None:
        options = copy.copy(getattr(namespace, self.dest, None) or {})
        if values is not None:
            if isinstance(values, str):
                values = [values]
            for kv in values:
                key, sep, val = kv.partition('=')
                if not sep or not key.strip():
                    raise ArgumentError(
                        self, f'malformed option {kv!r}: {_FORMS}, '
                        'e.g. optimizer.lr=0.01')
                try:
                    options[key.strip()] = self._parse_iterable(val)
                except CfgOptionsError as e:
                    # keep the type (AssertionError for old callers) but
                    # name the option the user typed
                    flag = (self.option_strings or [self.dest])[0]
                    raise CfgOptionsError(
                        f'malformed option {kv!r} of {flag}: {e}') from None
        setattr(namespace, self.dest, options)


def _brackets_match(val: str) -> bool:
    """Whether every ``(``/``[`` in ``val`` is closed by the matching
    bracket in the right order (``[(1,2])`` is not)."""
    stack = []
    for ch in val:
        if ch in '([':
            stack.append(')' if ch == '(' else ']')
        elif ch in ')]':
            if not stack or stack.pop() != ch:
                return False
    return not stack


def _closes_at_end(val: str) -> bool:
    """Whether the bracket opened at ``val[0]`` is closed at ``val[-1]``
    (so ``(a),(b)`` is not taken for one tuple)."""
    depth = 0
    for i, ch in enumerate(val):
        if ch in '([':
            depth += 1
        elif ch in ')]':
            depth -= 1
            if depth == 0:
                return i == len(val) - 1
    return False


def _split_top_level(val: str) -> List[str]:
    """Split on commas that are not inside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(val):
        if ch in '([':
            depth += 1
        elif ch in ')]':
            depth -= 1
        elif ch == ',' and depth == 0:
            parts.append(val[start:i])
            start = i + 1
    last = val[start:]
    if last.strip() or not parts:
        parts.append(last)
    return parts
