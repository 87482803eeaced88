# Copyright (c) OpenMMLab. All rights reserved.
"""Per-module, per-operator statistics of a model traced with ``torch.jit``.

:class:`JitModelAnalysis` traces the model once, walks the nodes of the
trace graph and feeds each node to the handle registered for its operator
(see :mod:`mmengine.analysis.jit_handles`). Module attribution comes from
forward hooks that push the module's name as a tracing scope, so every node
knows which module (and which callers) produced it.
"""
import logging
import typing
import warnings
from collections import Counter
from dataclasses import dataclass, field
from numbers import Number
from typing import (Any, Dict, Iterable, Iterator, List, Optional, Set,
                    Tuple)

import torch
import torch.nn as nn
from torch.jit import TracerWarning, _get_trace_graph

from mmengine.logging import print_log
from .jit_handles import Handle

__all__ = ['JitModelAnalysis']

# Operators that do no arithmetic worth counting (views, shape queries,
# copies, tensor creation, indexing, cheap activations). They never show up
# as "unsupported".
_IGNORED_OPS: Set[str] = {
    'aten::Int', 'aten::ScalarImplicit', 'aten::__and__', 'aten::__or__',
    'aten::alias', 'aten::arange', 'aten::as_strided', 'aten::cat',
    'aten::chunk', 'aten::clamp', 'aten::clamp_', 'aten::clone',
    'aten::constant_pad_nd', 'aten::contiguous', 'aten::copy_',
    'aten::detach', 'aten::dropout', 'aten::dropout_', 'aten::empty',
    'aten::empty_like', 'aten::eq', 'aten::expand', 'aten::expand_as',
    'aten::feature_dropout', 'aten::flatten', 'aten::flip', 'aten::floor',
    'aten::floor_divide', 'aten::full', 'aten::full_like', 'aten::ge',
    'aten::gt', 'aten::index', 'aten::index_put_', 'aten::index_select',
    'aten::le', 'aten::lt', 'aten::masked_fill', 'aten::masked_fill_',
    'aten::max', 'aten::narrow', 'aten::ne', 'aten::new_empty',
    'aten::new_full', 'aten::new_ones', 'aten::new_zeros', 'aten::nonzero',
    'aten::ones', 'aten::ones_like', 'aten::permute', 'aten::rand',
    'aten::rand_like', 'aten::randn', 'aten::randn_like', 'aten::relu',
    'aten::relu_', 'aten::remainder', 'aten::repeat', 'aten::reshape',
    'aten::roll', 'aten::select', 'aten::size', 'aten::slice',
    'aten::split', 'aten::split_with_sizes', 'aten::squeeze',
    'aten::stack', 'aten::t', 'aten::tensor_split', 'aten::to',
    'aten::transpose', 'aten::type_as', 'aten::unbind', 'aten::unflatten',
    'aten::unsqueeze', 'aten::unsqueeze_', 'aten::view', 'aten::view_as',
    'aten::where', 'aten::zero_', 'aten::zeros', 'aten::zeros_like'
}

_TRACER_WARNING_MODES = ('all', 'no_tracer_warning', 'none')
_ANCESTOR_MODES = ('owner', 'caller')


@dataclass
class _Statistics:
    """Result of one analysis pass.

    counts: module name -> operator -> count.
    unsupported_ops: module name -> operator kind -> number of occurrences.
    uncalled_mods: names of modules that took no part in the trace.
    """
    counts: Dict[str, typing.Counter[str]] = field(default_factory=dict)
    unsupported_ops: Dict[str,
                          typing.Counter[str]] = field(default_factory=dict)
    uncalled_mods: Set[str] = field(default_factory=set)


def _named_modules_with_dup(
        model: nn.Module,
        prefix: str = '') -> Iterator[Tuple[str, nn.Module]]:
    """Like ``named_modules`` but yields a module once per registered name."""
    yield prefix, model
    for name, child in model._modules.items():
        if child is None:
            continue
        child_name = prefix + ('.' if prefix else '') + name
        yield from _named_modules_with_dup(child, child_name)


def _simplify_op_name(full_op_name: str) -> str:
    """``aten::batch_norm`` -> ``batch_norm``."""
    pos = full_op_name.find('::')
    return full_op_name[pos + 2:] if pos != -1 else full_op_name


def _get_all_ancestors(module_name: str) -> Set[str]:
    """``'a.b.c'`` -> ``{'', 'a', 'a.b', 'a.b.c'}``."""
    parts = module_name.split('.') if module_name else []
    return {'.'.join(parts[:k]) for k in range(len(parts) + 1)}


def _describe_inputs(inputs: Tuple[Any, ...]) -> str:
    """``(Tensor(1, 3, 224, 224), dict)``: the shapes of tensor inputs and
    the type names of the others, for error messages."""

    def describe(value: Any) -> str:
        if isinstance(value, torch.Tensor):
            return f'Tensor{tuple(value.shape)}'
        if isinstance(value, (list, tuple)):
            inner = ', '.join(describe(v) for v in value)
            return f'{type(value).__name__}[{inner}]'
        return type(value).__name__

    return '(' + ', '.join(describe(v) for v in inputs) + ')'


class JitModelAnalysis:
    """Count per-operator and per-module statistics of a traced model.

    The model is traced with ``torch.jit`` on ``inputs`` (in its current
    train/eval mode; buffers changed by the trace, such as BatchNorm running
    statistics, are restored afterwards). Every graph node whose operator has
    a handle contributes the handle's result to the module that owns it and
    all of its ancestors. Operators without a handle are reported by
    :meth:`unsupported_ops` (and a warning), unless they are known to be free
    (views, shape ops...). The statistics are computed lazily on the first
    query and cached until a setting changes.

    Args:
        model (nn.Module): The model to analyze.
        inputs (Any): The inputs of ``model.forward``; a tuple is unpacked
            as positional arguments, anything else is the only argument.

    Examples:
        >>> from mmengine.analysis import FlopAnalyzer
        >>> flops = FlopAnalyzer(model, inputs)
        >>> flops.total(), flops.by_operator(), flops.by_module()
    """

    def __init__(self, model: nn.Module, inputs: Any) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError('model should be an nn.Module, but got '
                            f'{type(model)}')
        self._model = model
        self._inputs = inputs if isinstance(inputs, tuple) else (inputs, )
        self._op_handles: Dict[str, Optional[Handle]] = {}
        # module -> canonical name (the first name it is registered under)
        self._aliases: Dict[nn.Module, str] = {}
        # every registered name -> module
        self._named_modules: Dict[str, nn.Module] = {}
        for name, mod in _named_modules_with_dup(model):
            self._named_modules[name] = mod
            self._aliases.setdefault(mod, name)
        self._stats: Optional[_Statistics] = None
        # (graph, names of called modules), traced once at the first query
        self._traced: Optional[Tuple[Any, Set[str]]] = None
        self._enable_warn_unsupported_ops = True
        self._enable_warn_uncalled_mods = True
        self._warn_trace = 'no_tracer_warning'
        self._ancestor_mode = 'owner'
        self._ignored_ops: Set[str] = set(_IGNORED_OPS)

    @property
    def model(self) -> nn.Module:
        """nn.Module: The analyzed model."""
        return self._model

    @property
    def inputs(self) -> Tuple[Any, ...]:
        """tuple: The positional inputs the model is traced with."""
        return self._inputs

    # ------------------------------------------------------------------
    # queries
    # ------------------------------------------------------------------
    def total(self, module_name: str = '') -> Number:
        """Total count of a module (the whole model by default).

        Args:
            module_name (str): Name of a submodule, ``''`` for the model.

        Returns:
            int or float: The summed count of all operators of the module.
        """
        stats = self._analyze()
        name = self.canonical_module_name(module_name)
        return sum(stats.counts.get(name, Counter()).values())

    def by_operator(self, module_name: str = '') -> typing.Counter[str]:
        """Counts of a module grouped by operator name.

        Args:
            module_name (str): Name of a submodule, ``''`` for the model.

        Returns:
            Counter[str]: operator name -> count.
        """
        stats = self._analyze()
        name = self.canonical_module_name(module_name)
        return Counter(stats.counts.get(name, Counter()))

    def by_module_and_operator(self) -> Dict[str, typing.Counter[str]]:
        """Counts of every module grouped by operator name.

        Returns:
            dict[str, Counter[str]]: module name -> operator -> count.
        """
        return {
            name: Counter(counter)
            for name, counter in self._analyze().counts.items()
        }

    def by_module(self) -> typing.Counter[str]:
        """Total count of every module.

        Returns:
            Counter[str]: module name -> count (``''`` is the whole model).
        """
        return Counter({
            name: sum(counter.values())
            for name, counter in self._analyze().counts.items()
        })

    def unsupported_ops(self, module_name: str = '') -> typing.Counter[str]:
        """Operators of a module that had no handle and were skipped.

        Args:
            module_name (str): Name of a submodule, ``''`` for the model.

        Returns:
            Counter[str]: operator kind -> number of occurrences.
        """
        stats = self._analyze()
        name = self.canonical_module_name(module_name)
        return Counter(stats.unsupported_ops.get(name, Counter()))

    def uncalled_modules(self) -> Set[str]:
        """Names of submodules that were never called during the trace.

        They may be unused, or called through a method other than
        ``__call__`` (e.g. ``module.forward(x)``), in which case their cost
        is attributed to the calling module.
        """
        return set(self._analyze().uncalled_mods)

    def canonical_module_name(self, name: str) -> str:
        """The name statistics of a (possibly shared) module are stored at.

        A module registered under several names is reported under the first
        one.

        Raises:
            KeyError: If ``name`` is not a submodule of the model.
        """
        if name not in self._named_modules:
            raise KeyError(
                f'"{name}" is not a submodule of the analyzed model '
                f'{type(self._model).__name__}; valid names are those of '
                'model.named_modules().')
        return self._aliases[self._named_modules[name]]

    # ------------------------------------------------------------------
    # settings (each returns self so calls can be chained)
    # ------------------------------------------------------------------
    def set_op_handle(self, *args, **kwargs) -> 'JitModelAnalysis':
        """Set handles for operators, overriding the defaults.

        Pass ``(op_name, handle)`` pairs positionally and/or
        ``op_name=handle`` keywords, e.g.
        ``set_op_handle('aten::sigmoid', sigmoid_handle)``. A handle of
        ``None`` makes the operator ignored (neither counted nor reported).

        Returns:
            JitModelAnalysis: self.
        """
        if len(args) % 2 != 0:
            raise TypeError('set_op_handle takes (op_name, handle) pairs, but '
                            f'got an odd number ({len(args)}) of positional '
                            'arguments')
        pairs = list(zip(args[::2], args[1::2])) + list(kwargs.items())
        for name, handle in pairs:
            if not isinstance(name, str):
                raise TypeError('operator names must be str such as '
                                f'"aten::linear", but got {name!r}')
            if handle is not None and not callable(handle):
                raise TypeError(f'the handle of "{name}" must be callable or '
                                f'None, but got {type(handle)}')
            self._op_handles[name] = handle
        self._stats = None
        return self

    def clear_op_handles(self) -> 'JitModelAnalysis':
        """Remove all operator handles (nothing is counted afterwards)."""
        self._op_handles = {}
        self._stats = None
        return self

    def copy(self,
             new_model: Optional[nn.Module] = None,
             new_inputs: Any = None) -> 'JitModelAnalysis':
        """A new analysis with the same settings and handles.

        Args:
            new_model (nn.Module, optional): Model of the copy; defaults to
                the same model.
            new_inputs (Any): Inputs of the copy; defaults to the same.
        """
        model = self._model if new_model is None else new_model
        inputs = self._inputs if new_inputs is None else new_inputs
        analyzer = type(self)(model, inputs)
        analyzer._op_handles = dict(self._op_handles)
        analyzer._ignored_ops = set(self._ignored_ops)
        analyzer._enable_warn_unsupported_ops = (
            self._enable_warn_unsupported_ops)
        analyzer._enable_warn_uncalled_mods = self._enable_warn_uncalled_mods
        analyzer._warn_trace = self._warn_trace
        analyzer._ancestor_mode = self._ancestor_mode
        return analyzer

    def tracer_warnings(self, mode: str) -> 'JitModelAnalysis':
        """Which warnings to show while tracing (the model is traced once,
        at the first query).

        Args:
            mode (str): ``'all'``, ``'no_tracer_warning'`` (default: hide
                ``torch.jit.TracerWarning`` only) or ``'none'``.
        """
        if mode not in _TRACER_WARNING_MODES:
            raise ValueError(f'tracer_warnings mode must be one of '
                             f'{_TRACER_WARNING_MODES}, but got {mode!r}')
        self._warn_trace = mode
        return self

    def ancestor_mode(self, mode: str) -> 'JitModelAnalysis':
        """How an operator is attributed to modules.

        Args:
            mode (str): ``'owner'`` (default): to the module that ran it and
                all its ancestors by name. ``'caller'``: to every module on
                the call stack when it ran.
        """
        if mode not in _ANCESTOR_MODES:
            raise ValueError(f'ancestor_mode must be one of {_ANCESTOR_MODES}'
                             f', but got {mode!r}')
        self._ancestor_mode = mode
        self._stats = None
        return self

    def unsupported_ops_warnings(self, enabled: bool) -> 'JitModelAnalysis':
        """Enable or disable the warning listing skipped operators."""
        self._enable_warn_unsupported_ops = bool(enabled)
        return self

    def uncalled_modules_warnings(self, enabled: bool) -> 'JitModelAnalysis':
        """Enable or disable the warning listing uncalled submodules."""
        self._enable_warn_uncalled_mods = bool(enabled)
        return self

    # ------------------------------------------------------------------
    # analysis
    # ------------------------------------------------------------------
    def _get_trace(self) -> Tuple[Any, Set[str]]:
        """The trace graph and the (canonical) names of called modules."""
        if self._traced is None:
            self._traced = self._trace()
        return self._traced

    def _share_trace(self, other: 'JitModelAnalysis') -> None:
        """Reuse the trace of another analysis of the same model and
        inputs instead of running the model again."""
        same_inputs = len(other._inputs) == len(self._inputs) and all(
            a is b for a, b in zip(other._inputs, self._inputs))
        if other._model is not self._model or not same_inputs:
            raise ValueError('can only share the trace of an analysis of the '
                             'same model and inputs')
        self._traced = other._get_trace()

    def _trace(self) -> Tuple[Any, Set[str]]:
        """Trace the model; returns the graph and the names of called
        modules (canonical names)."""
        called: Set[str] = set()
        hooks = []
        model = self._model

        def push_scope(name: str):

            def hook(module, args):
                called.add(name)
                state = torch._C._get_tracing_state()
                if state:
                    state.push_scope(name)

            return hook

        def pop_scope(module, args, output):
            state = torch._C._get_tracing_state()
            if state:
                state.pop_scope()

        def register(module: nn.Module, name: str) -> None:
            hooks.append(module.register_forward_pre_hook(push_scope(name)))
            hooks.append(module.register_forward_hook(pop_scope))

        if isinstance(model, (nn.DataParallel,
                              nn.parallel.DistributedDataParallel)):
            # Trace the wrapped module, but keep the wrapper as the root
            # scope so names stay those of the wrapper ('module.xxx').
            register(model.module, self._aliases[model])
            called.add(self._aliases[model])
            model = model.module
        for mod, name in self._aliases.items():
            if isinstance(mod, (nn.DataParallel,
                                nn.parallel.DistributedDataParallel)):
                continue
            register(mod, name)

        # Tracing runs the model: keep it from changing buffers such as
        # BatchNorm running statistics.
        saved = [(buf, buf.detach().clone()) for buf in model.buffers()]
        try:
            with warnings.catch_warnings():
                if self._warn_trace == 'none':
                    warnings.simplefilter('ignore')
                elif self._warn_trace == 'no_tracer_warning':
                    warnings.filterwarnings('ignore', category=TracerWarning)
                graph, _ = _get_trace_graph(model, self._inputs)
        except Exception as e:
            # Keep the original type and traceback; say what was traced.
            e.add_note(
                f'(while tracing {type(self._model).__name__} for complexity '
                f'analysis, called as model(*inputs) with inputs '
                f'{_describe_inputs(self._inputs)}, in '
                f'{"training" if model.training else "eval"} mode)')
            raise
        finally:
            for handle in hooks:
                handle.remove()
            with torch.no_grad():
                for buf, value in saved:
                    buf.copy_(value)
        return graph, called

    def _should_ignore_node(self, kind: str) -> bool:
        if kind in self._ignored_ops:
            return True
        # prim:: nodes are graph plumbing (constants, lists, tuples...),
        # except Python autograd functions and calls of scripted code,
        # which may do real work.
        if kind.startswith('prim::PythonOp') or kind.startswith(
                'prim::CallFunction') or kind.startswith('prim::CallMethod'):
            return False
        return kind.startswith('prim::')

    def _node_ancestors(self, scope_name: str) -> Tuple[Set[str], List[str]]:
        # scope names look like '/layer1/layer1.0/layer1.0.conv1'; the root
        # module's scope is the empty string.
        scopes = scope_name.split('/') if scope_name else ['']
        if self._ancestor_mode == 'caller':
            return set(scopes), scopes
        return _get_all_ancestors(scopes[-1]), scopes

    def _analyze(self) -> _Statistics:
        if self._stats is not None:
            return self._stats
        graph, called = self._get_trace()
        counts: Dict[str, typing.Counter[str]] = {}
        unsupported: Dict[str, typing.Counter[str]] = {}
        for name in self._aliases.values():
            counts[name] = Counter()
            unsupported[name] = Counter()
        seen: Set[str] = set()
        for name in called:
            seen.add(name)
            if self._ancestor_mode == 'owner':
                seen.update(_get_all_ancestors(name))

        for node in graph.nodes():
            kind = node.kind()
            if kind == 'prim::PythonOp':
                kind = f'{kind}.{node.pyname()}'
            ancestors, scopes = self._node_ancestors(node.scopeName())
            seen.update(scopes)
            if kind in self._op_handles:
                handle = self._op_handles[kind]
                if handle is None:
                    continue
                op_counts = self._run_handle(kind, handle, node)
                for name in ancestors:
                    counts.setdefault(name, Counter()).update(op_counts)
            elif not self._should_ignore_node(kind):
                for name in ancestors:
                    unsupported.setdefault(name, Counter())[kind] += 1

        uncalled = set(self._aliases.values()) - seen
        self._stats = _Statistics(counts, unsupported, uncalled)
        self._warn_unsupported_ops(unsupported.get('', Counter()))
        self._warn_uncalled_mods(uncalled)
        return self._stats

    @staticmethod
    def _run_handle(kind: str, handle: Handle,
                    node: Any) -> typing.Counter[str]:
        result = handle(list(node.inputs()), list(node.outputs()))
        if isinstance(result, Number) and not isinstance(result, bool):
            return Counter({_simplify_op_name(kind): result})
        if isinstance(result, dict):
            for op, value in result.items():
                if not isinstance(value, Number) or isinstance(value, bool):
                    raise TypeError(
                        f'The handle of "{kind}" returned a non-numeric '
                        f'count {value!r} for "{op}"; counts must be int '
                        'or float')
            return Counter(result)
        raise TypeError(f'The handle of "{kind}" must return a number or a '
                        f'collections.Counter, but returned {type(result)}')

    def _warn_unsupported_ops(self, ops: typing.Counter[str]) -> None:
        if not self._enable_warn_unsupported_ops:
            return
        for op, freq in sorted(ops.items()):
            print_log(
                f'Unsupported operator {op} encountered {freq} time(s)',
                logger='current',
                level=logging.WARNING)

    def _has_forward(self, name: str) -> bool:
        """Containers without their own forward (ModuleList, ModuleDict...)
        are not meant to be called."""
        module = self._named_modules.get(name)
        if module is None:
            return False
        return type(module).forward is not nn.Module.forward

    def _warn_uncalled_mods(self, uncalled: Iterable[str]) -> None:
        if not self._enable_warn_uncalled_mods:
            return
        names = sorted(name for name in uncalled if self._has_forward(name))
        if not names:
            return
        print_log(
            'The following submodules of the model were never called during '
            'the trace of the graph. They may be unused, or they were '
            'accessed by direct calls to .forward() or via other python '
            'methods. In the latter case they will have zeros for '
            'statistics, though their statistics will still contribute to '
            'their parent calling module.\n' + ', '.join(names),
            logger='current',
            level=logging.WARNING)

