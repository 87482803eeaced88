"""Small type checks and sequence helpers."""
import functools
import importlib
import itertools
import shutil
import warnings
from collections import abc
from inspect import getfullargspec
from itertools import repeat
from typing import Any, Callable, Optional, Sequence, Type, Union


def _ntuple(n: int) -> Callable:
    """Return a function turning a scalar into an ``n``-tuple."""

    def parse(x):
        if isinstance(x, abc.Iterable) and not isinstance(x, str):
            return x
        return tuple(repeat(x, n))

    return parse


to_1tuple = _ntuple(1)
to_2tuple = _ntuple(2)
to_3tuple = _ntuple(3)
to_4tuple = _ntuple(4)
to_ntuple = _ntuple


def is_str(x: Any) -> bool:
    """Whether ``x`` is a string."""
    return isinstance(x, str)


def import_modules_from_strings(imports: Union[str, Sequence[str], None],
                                allow_failed_imports: bool = False):
    """Import modules given by dotted names.

    Args:
        imports (str | list[str] | None): module name(s) to import.
        allow_failed_imports (bool): if True, a failing import gives a
            warning and ``None`` in its place instead of raising.

    Returns:
        The imported module, or a list of them when ``imports`` is a list.
    """
    if not imports:
        return
    single_import = False
    if isinstance(imports, str):
        single_import = True
        imports = [imports]
    if not isinstance(imports, list):
        raise TypeError(
            f'custom_imports must be a list of module names but got '
            f'{type(imports).__name__}: {imports!r}')
    imported = []
    for imp in imports:
        if not isinstance(imp, str):
            raise TypeError(
                f'{imp!r} is of type {type(imp).__name__} and cannot be '
                'imported; module names must be str.')
        try:
            imported_tmp = importlib.import_module(imp)
        except ImportError:
            if allow_failed_imports:
                warnings.warn(f'{imp} failed to import and is ignored.',
                              UserWarning)
                imported_tmp = None
            else:
                raise
        imported.append(imported_tmp)
    if single_import:
        imported = imported[0]
    return imported


def iter_cast(inputs, dst_type: Type, return_type: Optional[Type] = None):
    """Cast every element of an iterable to ``dst_type``.

    Args:
        inputs (Iterable): the input.
        dst_type (type): destination element type.
        return_type (type, optional): container type of the result; an
            iterator (``map``) when omitted.
    """
    if not isinstance(inputs, abc.Iterable):
        raise TypeError('inputs must be an iterable object')
    if not isinstance(dst_type, type):
        raise TypeError('"dst_type" must be a valid type')
    out_iterable = map(dst_type, inputs)
    if return_type is None:
        return out_iterable
    return return_type(out_iterable)


def list_cast(inputs, dst_type: Type) -> list:
    """Cast elements of an iterable into a list of ``dst_type``."""
    return iter_cast(inputs, dst_type, return_type=list)


def tuple_cast(inputs, dst_type: Type) -> tuple:
    """Cast elements of an iterable into a tuple of ``dst_type``."""
    return iter_cast(inputs, dst_type, return_type=tuple)


def is_seq_of(seq: Any,
              expected_type: Union[Type, tuple],
              seq_type: Optional[Type] = None) -> bool:
    """Whether ``seq`` is a sequence whose items all have ``expected_type``.

    Args:
        seq: the object to check.
        expected_type (type | tuple[type]): the expected item type(s).
        seq_type (type, optional): the expected sequence type; any
            ``collections.abc.Sequence`` when omitted.
    """
    if seq_type is None:
        exp_seq_type = abc.Sequence
    else:
        assert isinstance(seq_type, type)
        exp_seq_type = seq_type
    if not isinstance(seq, exp_seq_type):
        return False
    for item in seq:
        if not isinstance(item, expected_type):
            return False
    return True


def is_list_of(seq: Any, expected_type: Union[Type, tuple]) -> bool:
    """Whether ``seq`` is a list whose items all have ``expected_type``."""
    return is_seq_of(seq, expected_type, seq_type=list)


def is_tuple_of(seq: Any, expected_type: Union[Type, tuple]) -> bool:
    """Whether ``seq`` is a tuple whose items all have ``expected_type``."""
    return is_seq_of(seq, expected_type, seq_type=tuple)


def slice_list(in_list: list, lens: Union[int, list]) -> list:
    """Slice a list into consecutive pieces of the given lengths.

    Args:
        in_list (list): the list to slice.
        lens (int | list[int]): one length for every piece, or each piece's
            length; their sum must equal ``len(in_list)``.
    """
    if isinstance(lens, int):
        if lens <= 0 or len(in_list) % lens != 0:
            raise ValueError(
                f'cannot slice a list of length {len(in_list)} into pieces '
                f'of length {lens}')
        lens = [lens] * (len(in_list) // lens)
    if not isinstance(lens, list):
        raise TypeError('"indices" must be an integer or a list of integers')
    elif sum(lens) != len(in_list):
        raise ValueError('sum of lens and list length does not '
                         f'match: {sum(lens)} != {len(in_list)}')
    out_list = []
    idx = 0
    for i in range(len(lens)):
        out_list.append(in_list[idx:idx + lens[i]])
        idx += lens[i]
    return out_list


def concat_list(in_list: list) -> list:
    """Concatenate a list of lists into one list."""
    return list(itertools.chain(*in_list))


def check_prerequisites(
        prerequisites,
        checker,
        msg_tmpl: str = 'Prerequisites "{}" are required in method "{}" but '
        'not found, please install them first.'):
    """Decorator factory checking prerequisites before calling a function.

    Args:
        prerequisites (str | list[str]): what must be present.
        checker (callable): returns True when a prerequisite is present.
        msg_tmpl (str): message template, formatted with the missing
            prerequisites and the function name.

    Raises:
        RuntimeError: when the decorated function is called while a
            prerequisite is missing; the message names the missing ones.
    """

    def wrap(func):

        @functools.wraps(func)
        def wrapped_func(*args, **kwargs):
            requirements = [prerequisites] if isinstance(
                prerequisites, str) else prerequisites
            missing = [item for item in requirements if not checker(item)]
            if missing:
                raise RuntimeError(
                    msg_tmpl.format(', '.join(missing), func.__name__))
            return func(*args, **kwargs)

        return wrapped_func

    return wrap


def _check_py_package(package: str) -> bool:
    try:
        importlib.import_module(package)
    except ImportError:
        return False
    return True


def _check_executable(cmd: str) -> bool:
    return shutil.which(cmd) is not None


def requires_package(prerequisites):
    """Decorator: the function needs the given Python package(s).

    Example:
        >>> @requires_package('numpy')
        ... def func(arg1, args):
        ...     return numpy.zeros(1)
    """
    return check_prerequisites(prerequisites, checker=_check_py_package)


def requires_executable(prerequisites):
    """Decorator: the function needs the given executable(s) on PATH."""
    return check_prerequisites(prerequisites, checker=_check_executable)


def deprecated_api_warning(name_dict: dict,
                           cls_name: Optional[str] = None) -> Callable:
    """Decorator renaming deprecated keyword arguments with a warning.

    Args:
        name_dict (dict): ``{old_name: new_name}``.
        cls_name (str, optional): class name shown in the warning.
    """

    def api_warning_wrapper(old_func):
        # Inspected once here rather than on every call.
        positional_names = getfullargspec(old_func).args
        func_name = old_func.__name__
        if cls_name is not None:
            func_name = f'{cls_name}.{func_name}'

        @functools.wraps(old_func)
        def new_func(*args, **kwargs):
            if args:
                arg_names = positional_names[:len(args)]
                for src_arg_name, dst_arg_name in name_dict.items():
                    if src_arg_name in arg_names:
                        warnings.warn(
                            f'"{src_arg_name}" is deprecated in '
                            f'`{func_name}`, please use "{dst_arg_name}" '
                            'instead', DeprecationWarning)
                        arg_names[arg_names.index(src_arg_name)] = \
                            dst_arg_name
            if kwargs:
                for src_arg_name, dst_arg_name in name_dict.items():
                    if src_arg_name in kwargs:
                        assert dst_arg_name not in kwargs, (
                            f'The expected behavior is to replace '
                            f'the deprecated key `{src_arg_name}` to '
                            f'new key `{dst_arg_name}`, but got them '
                            f'in the arguments at the same time, which '
                            f'is confusing. `{src_arg_name} will be '
                            f'deprecated in the future, please '
                            f'use `{dst_arg_name}` instead.')
                        warnings.warn(
                            f'"{src_arg_name}" is deprecated in '
                            f'`{func_name}`, please use "{dst_arg_name}" '
                            'instead', DeprecationWarning)
                        kwargs[dst_arg_name] = kwargs.pop(src_arg_name)
            return old_func(*args, **kwargs)

        return new_func

    return api_warning_wrapper


def is_method_overridden(method: str, base_class: type,
                         derived_class: Union[type, Any]) -> bool:
    """Whether ``derived_class`` overrides ``method`` of ``base_class``.

    Args:
        method (str): the method name.
        base_class (type): the base class.
        derived_class (type | Any): the subclass or an instance of it.
    """
    assert isinstance(base_class, type), \
        "base_class doesn't accept instance, Please pass class instead."
    if not isinstance(derived_class, type):
        derived_class = derived_class.__class__
    base_method = getattr(base_class, method)
    derived_method = getattr(derived_class, method)
    return derived_method != base_method


def has_method(obj: object, method: str) -> bool:
    """Whether ``obj`` has a callable attribute called ``method``."""
    return hasattr(obj, method) and callable(getattr(obj, method))


def deprecated_function(since: str, removed_in: str,
                        instructions: str) -> Callable:
    """Mark a function deprecated: it warns and its docstring says so.

    Args:
        since (str): version in which it was deprecated.
        removed_in (str): version in which it will be removed.
        instructions (str): what to use instead.
    """

    def decorator(function):

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            # Imported here: logging sits above utils in the layering.
            from mmengine.logging import print_log
            print_log(
                f"'{function.__module__}.{function.__name__}' "
                f'is deprecated in version {since} and will be '
                f'removed in version {removed_in}. Please {instructions}.',
                logger='current',
                level=30)
            return function(*args, **kwargs)

        note = (f'.. deprecated:: {since}\n'
                f'    Deprecated and will be removed in version '
                f'{removed_in}.\n    Please {instructions}.\n')
        doc = function.__doc__ or ''
        lines = doc.split('\n', 1)
        if len(lines) == 1:
            wrapper.__doc__ = f'{doc}\n\n{note}' if doc else note
        else:
            import textwrap
            summary, rest = lines
            rest = textwrap.dedent(rest)
            wrapper.__doc__ = f'{summary}\n\n{note}\n{rest}'
        return wrapper

    return decorator


def apply_to(data: Any, expr: Callable, apply_func: Callable):
    """Apply ``apply_func`` to every leaf of ``data`` for which ``expr``
    holds, recursing through dicts, lists, tuples (incl. namedtuples).

    Args:
        data: nested data.
        expr (callable): predicate on a leaf.
        apply_func (callable): applied to matching leaves.
    """
    if isinstance(data, dict):
        return type(data)(
            {k: apply_to(v, expr, apply_func) for k, v in data.items()})
    elif isinstance(data, tuple) and hasattr(data, '_fields'):
        return type(data)(*(apply_to(d, expr, apply_func) for d in data))
    elif isinstance(data, (tuple, list)):
        return type(data)(apply_to(d, expr, apply_func) for d in data)
    elif expr(data):
        return apply_func(data)
    else:
        return data


def get_object_from_string(obj_name: str):
    """Get an object from a dotted path such as ``'torch.optim.SGD'``.

    Returns ``None`` when no such object exists.
    """
    parts = obj_name.split('.')
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None
