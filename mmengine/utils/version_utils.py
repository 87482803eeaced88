"""Version parsing and the git hash of a checkout."""
import os
import re
from typing import Tuple

_RELEASE_RE = re.compile(
    r'^v?(?P<release>\d+(?:\.\d+)*)'
    r'(?:[-_.]?(?P<pre>a|alpha|b|beta|rc|c|pre|preview)[-_.]?(?P<pre_n>\d*))?'
    r'(?:[-_.]?(?:post|rev|r)[-_.]?(?P<post>\d*)|-(?P<post2>\d+))?'
    r'(?:[-_.]?dev[-_.]?(?P<dev>\d*))?'
    r'(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$', re.IGNORECASE)


def digit_version(version_str: str, length: int = 4) -> Tuple[int, ...]:
    """Turn a version string into a tuple of ints that compares correctly.

    Pre-releases sort before the release (``1.0rc1 < 1.0``), post-releases
    after it; a local part (``+cu121``) is ignored.

    Args:
        version_str (str): e.g. ``'2.13.0'`` or ``'1.3.0rc1'``.
        length (int): number of release components kept. Defaults to 4.

    Raises:
        ValueError: if ``version_str`` is not a valid version.
    """
    if not isinstance(version_str, str):
        raise TypeError(
            f'version must be a str, got {type(version_str).__name__}')
    match = _RELEASE_RE.match(version_str.strip())
    if not match:
        raise ValueError(f'failed to parse version {version_str!r}')
    release = [int(x) for x in match.group('release').split('.')]
    # Extra components beyond ``length`` are dropped, like the original.
    release = release[:length] + [0] * (length - len(release))
    pre = match.group('pre')
    if pre is not None:
        # alpha < beta < rc < release, as in PEP 440.
        mapping = {'a': -3, 'alpha': -3, 'b': -2, 'beta': -2, 'c': -1,
                   'rc': -1, 'pre': -1, 'preview': -1}
        release.extend([mapping[pre.lower()], int(match.group('pre_n') or 0)])
    elif match.group('dev') is not None:
        # A dev release sorts before any pre-release of the same version.
        release.extend([-4, int(match.group('dev') or 0)])
    elif match.group('post') is not None or match.group('post2') is not None:
        release.extend([1, int(match.group('post') or match.group('post2')
                               or 0)])
    else:
        release.extend([0, 0])
    return tuple(release)


def _minimal_ext_cmd(cmd):
    import subprocess  # lazily: keeps ``import mmengine.utils`` light
    env = {}
    for k in ['SYSTEMROOT', 'PATH', 'HOME']:
        v = os.environ.get(k)
        if v is not None:
            env[k] = v
    env['LANGUAGE'] = 'C'
    env['LANG'] = 'C'
    env['LC_ALL'] = 'C'
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=env).communicate()[0]


def get_git_hash(fallback: str = 'unknown', digits=None) -> str:
    """Git hash of the current checkout, or ``fallback`` outside one.

    Args:
        fallback (str): returned when git is unavailable.
        digits (int, optional): keep only the first ``digits`` characters.
    """
    if digits is not None and not isinstance(digits, int):
        raise TypeError('digits must be None or an integer')
    try:
        out = _minimal_ext_cmd(['git', 'rev-parse', 'HEAD'])
        sha = out.strip().decode('ascii')
        if not sha:
            return fallback
        if digits is not None:
            sha = sha[:digits]
    except OSError:
        sha = fallback
    return sha
