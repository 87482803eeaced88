# Copyright (c) OpenMMLab. All rights reserved.
"""Number formatting and the module-tree ASCII tables of the analysis."""
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = [
    'format_size', 'stats_tree_rows', 'render_ascii_table', 'shape_str'
]

# (threshold, divisor, suffix): a value above the threshold is shown in the
# unit of the suffix, e.g. 4145000000 -> '4.145G'.
_UNITS = ((1e14, 1e15, 'P'), (1e11, 1e12, 'T'), (1e8, 1e9, 'G'),
          (1e5, 1e6, 'M'), (1e2, 1e3, 'K'))


def format_size(x: float, sig_figs: int = 3, hide_zero: bool = False) -> str:
    """Format a count for humans.

    Values up to 100 are printed as they are (``100``, ``40``, ``0``); larger
    ones are divided into K/M/G/T/P units with ``sig_figs`` decimals and
    trailing zeros stripped (``440 -> '0.44K'``, ``25557032 -> '25.557M'``).

    Args:
        x (int or float): The value.
        sig_figs (int): Decimals kept after scaling. Defaults to 3.
        hide_zero (bool): Return ``''`` for zero. Defaults to False.

    Returns:
        str: The formatted value.
    """
    if hide_zero and x == 0:
        return ''

    def fmt(value: float) -> str:
        text = f'{value:.{sig_figs}f}'
        if '.' in text:
            text = text.rstrip('0').rstrip('.')
        return text

    for threshold, divisor, suffix in _UNITS:
        if abs(x) > threshold:
            return fmt(x / divisor) + suffix
    return str(x)


def _parent(name: str, present: Dict[str, object]) -> str:
    """The nearest ancestor of ``name`` among ``present`` (``''`` = root)."""
    while '.' in name:
        name = name.rsplit('.', 1)[0]
        if name in present:
            return name
    return ''


def stats_tree_rows(stats: Dict[str, Dict[str, str]],
                    columns: Sequence[str],
                    max_depth: int = 3,
                    root_name: str = 'model',
                    fast_forward: bool = True) -> List[List[str]]:
    """Lay out per-module statistics as indented table rows.

    Args:
        stats (dict): Dotted name (``''`` is the root) -> column -> cell
            text, in the order rows should follow among siblings.
        columns (Sequence[str]): Statistic columns to emit after the name.
        max_depth (int): Levels shown below the root. Defaults to 3.
        root_name (str): Name shown for the root row. Defaults to 'model'.
        fast_forward (bool): While the root has a single child with the
            same statistics, start the table at that child (its name becomes
            the root row and the prefix is dropped from descendants).

    Returns:
        list[list[str]]: Rows of ``[indented name, *cells]``.
    """
    if '' not in stats:
        raise KeyError('the statistics must contain the root entry ""')
    children: Dict[str, List[str]] = {name: [] for name in stats}
    for name in stats:
        if name:
            children[_parent(name, stats)].append(name)

    root = ''
    if fast_forward:
        while (len(children[root]) == 1
               and stats[children[root][0]] == stats[root]):
            root = children[root][0]
    prefix = root + '.' if root else ''

    def row(name: str, depth: int) -> List[str]:
        shown = (name[len(prefix):] if prefix and name.startswith(prefix)
                 else name)
        cells = [stats[name].get(col, '') for col in columns]
        return [' ' * depth + (shown or root_name)] + cells

    rows = [row(root, 0)]

    def fill(name: str, depth: int) -> None:
        if depth > max_depth:
            return
        for child in children[name]:
            rows.append(row(child, depth))
            fill(child, depth + 1)

    fill(root, 1)
    return rows


def render_ascii_table(headers: Sequence[str],
                       rows: Sequence[Sequence[str]],
                       title: Optional[str] = None) -> str:
    """Render rows as a ``+---+`` bordered, left-aligned ASCII table.

    Args:
        headers (Sequence[str]): Column titles.
        rows (Sequence[Sequence[str]]): Cell texts, one list per row.
        title (str, optional): A line printed above the table.

    Returns:
        str: The table (no trailing newline).
    """
    widths = [len(h) for h in headers]
    for cells in rows:
        if len(cells) != len(headers):
            raise ValueError(f'a table row has {len(cells)} cells but there '
                             f'are {len(headers)} columns: {cells}')
        widths = [max(w, len(c)) for w, c in zip(widths, cells)]

    def line(cells: Sequence[str]) -> str:
        return '| ' + ' | '.join(
            c.ljust(w) for c, w in zip(cells, widths)) + ' |'

    border = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
    out: List[str] = [title] if title else []
    out += [border, line(headers), border]
    out += [line(cells) for cells in rows]
    out.append(border)
    return '\n'.join(out)


def shape_str(shape: Tuple[int, ...]) -> str:
    """``torch.Size([10, 10])`` -> ``'(10, 10)'``; ``(10,)`` stays."""
    return str(tuple(shape))
