"""Version of the ``mmengine`` distribution."""

__version__ = '0.11.0'


def parse_version_info(version_str: str) -> tuple:
    """Parse a version string into a tuple such as ``(0, 11, 0)``.

    Pre-release parts stay as strings: ``'0.11.0rc1'`` -> ``(0, 11, 0, 'rc1')``.
    """
    parts = []
    for piece in version_str.split('.'):
        if piece.isdigit():
            parts.append(int(piece))
        elif 'rc' in piece:
            num, rc = piece.split('rc', 1)
            parts.append(int(num))
            parts.append(f'rc{rc}')
        else:
            parts.append(piece)
    return tuple(parts)


version_info = parse_version_info(__version__)
