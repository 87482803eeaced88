"""Read the model index a downstream package ships with its configs.

OpenMMLab packages follow an install convention: the package directory holds
``.mim/`` with ``configs/`` and ``model-index.yml``. The model index lists
metafiles; each metafile lists models::

    # <pkg>/.mim/model-index.yml
    Import:
      - configs/resnet/metafile.yml

    # <pkg>/.mim/configs/resnet/metafile.yml
    Models:
      - Name: resnet18_8xb32_in1k
        Alias: resnet18            # optional, str or list
        Config: configs/resnet/resnet18_8xb32_in1k.py
        Weights: https://download.example.com/resnet18.pth  # or a list

Paths in both files are relative to the directory holding
``model-index.yml``. A source checkout installed in development mode keeps
``model-index.yml`` and ``configs/`` next to the package instead of inside
``.mim``; both layouts are searched, ``.mim`` first.
"""
import os.path as osp
from typing import Dict, Iterator, List, Optional, Tuple

MODEL_INDEX_FILE = 'model-index.yml'


def split_package_path(cfg_path: str) -> Tuple[str, str]:
    """Split ``'<pkg>::<path>'`` into ``(pkg, path)``.

    Raises:
        ValueError: ``cfg_path`` is not of that form.
    """
    if not isinstance(cfg_path, str):
        raise TypeError('expected a config name like "mmdet::faster_rcnn/'
                        'faster-rcnn_r50_fpn_1x_coco.py", but got '
                        f'{type(cfg_path).__name__}')
    package, sep, rel = cfg_path.partition('::')
    if not sep or not package or not rel:
        raise ValueError(
            f'{cfg_path!r} should be "<package>::<config path inside the '
            'package configs>", e.g. "mmdet::faster_rcnn/'
            'faster-rcnn_r50_fpn_1x_coco.py"')
    return package, rel


def package_dir(package: str) -> str:
    """Directory of the installed ``package`` (import or distribution name).

    Raises:
        ModuleNotFoundError: the package is not installed.
    """
    from mmengine.utils import get_installed_path, is_installed
    if not is_installed(package):
        raise ModuleNotFoundError(
            f'package {package!r} is not installed (needed to find its '
            'configs and model index); install it first')
    return get_installed_path(package)


def package_scope(package: str) -> str:
    """Registry scope of ``package``: its import name.

    ``'mmsegmentation'`` (a distribution name) gives ``'mmseg'``; an import
    name is returned unchanged.
    """
    from mmengine.utils.package_utils import package2module, package_exists
    if package_exists(package):
        return package
    try:
        return package2module(package)
    except ValueError:
        return package


def find_model_index(package: str) -> str:
    """Path of ``model-index.yml`` of an installed ``package``.

    Raises:
        ModuleNotFoundError: the package is not installed.
        FileNotFoundError: the package ships no model index.
    """
    root = package_dir(package)
    tried = []
    for base in (osp.join(root, '.mim'), root):
        candidate = osp.join(base, MODEL_INDEX_FILE)
        if osp.isfile(candidate):
            return candidate
        tried.append(candidate)
    raise FileNotFoundError(
        f'package {package!r} has no model index: tried ' + ', '.join(tried) +
        '. Models (and pretrained weights) can only be looked up in packages '
        'that ship a model-index.yml')


def _load_yaml(path: str, what: str) -> dict:
    from mmengine.fileio import load
    try:
        data = load(path, file_format='yaml')
    except Exception as e:
        raise ValueError(f'cannot read the {what} {path}: {e}') from e
    if not isinstance(data, dict):
        raise ValueError(f'the {what} {path} should hold a mapping, but '
                         f'holds {type(data).__name__}')
    return data


def iter_models(package: str) -> Iterator[Dict]:
    """Yield every model entry of ``package``'s model index.

    Each entry is the metafile's dict plus two keys: ``_metafile`` (the
    metafile path) and ``_index_dir`` (the directory paths are relative to).

    Raises:
        FileNotFoundError: no model index, or a metafile it lists is missing.
        ValueError: a file is not valid YAML or has the wrong layout.
    """
    index_path = find_model_index(package)
    index_dir = osp.dirname(index_path)
    index = _load_yaml(index_path, 'model index')
    metafiles = index.get('Import', [])
    if isinstance(metafiles, str):
        metafiles = [metafiles]
    if not isinstance(metafiles, list):
        raise ValueError(f'"Import" in {index_path} should be a list of '
                         f'metafile paths, but got {metafiles!r}')
    for rel in metafiles:
        meta_path = osp.join(index_dir, rel)
        if not osp.isfile(meta_path):
            raise FileNotFoundError(
                f'metafile {meta_path} listed in {index_path} does not exist')
        models = _load_yaml(meta_path, 'metafile').get('Models', [])
        if not isinstance(models, list):
            raise ValueError(f'"Models" in {meta_path} should be a list, but '
                             f'got {type(models).__name__}')
        for model in models:
            if not isinstance(model, dict):
                raise ValueError(f'each entry of "Models" in {meta_path} '
                                 f'should be a mapping, but got {model!r}')
            yield dict(model, _metafile=meta_path, _index_dir=index_dir)


def model_names(entry: Dict) -> List[str]:
    """Lower-cased name and aliases of a model entry."""
    names = [str(entry.get('Name', '')).lower()]
    aliases = entry.get('Alias', [])
    if isinstance(aliases, str):
        aliases = [aliases]
    names.extend(str(a).lower() for a in aliases)
    return [n for n in names if n]


def first_weights(entry: Dict) -> Optional[str]:
    """The entry's checkpoint (the first one when several are listed)."""
    weights = entry.get('Weights')
    if isinstance(weights, (list, tuple)):
        weights = weights[0] if weights else None
    return weights


def entry_config_path(entry: Dict) -> str:
    """Absolute path of the config of a model entry.

    Raises:
        KeyError: the entry has no ``Config``.
    """
    if 'Config' not in entry:
        raise KeyError(f'model {entry.get("Name")!r} in {entry["_metafile"]} '
                       'has no "Config"')
    return osp.join(entry['_index_dir'], entry['Config'])


def find_model_by_name(package: str, name: str) -> Dict:
    """Entry of the model called ``name`` (or with that alias).

    Raises:
        ValueError: no such model in the model index.
    """
    wanted = name.lower()
    available = []
    for entry in iter_models(package):
        names = model_names(entry)
        if wanted in names:
            return entry
        available.extend(names[:1])
    raise ValueError(
        f'model {name!r} is not in the model index of {package!r} '
        f'({find_model_index(package)}); available models: '
        f'{sorted(available)}')


def _relative_config(config: str) -> str:
    """``'configs/a/b.py'`` → ``'a/b.py'``: the part a ``pkg::`` path
    names."""
    config = osp.normpath(config).replace('\\', '/')
    head, sep, tail = config.partition('/')
    return tail if sep and head == 'configs' else config


def find_model_by_config(package: str, cfg_path: str) -> Dict:
    """Entry whose ``Config`` is ``cfg_path`` (relative to the package's
    configs directory); the first one when several share the config.

    Raises:
        ValueError: no model of the model index uses that config.
    """
    wanted = _relative_config(osp.join('configs', cfg_path))
    available = []
    for entry in iter_models(package):
        if 'Config' not in entry:
            continue
        rel = _relative_config(entry['Config'])
        if rel == wanted:
            return entry
        available.append(rel)
    raise ValueError(
        f'no model in the model index of {package!r} '
        f'({find_model_index(package)}) uses the config {cfg_path!r}, so '
        'its pretrained weights are unknown; configs with weights: '
        f'{sorted(available)}')
