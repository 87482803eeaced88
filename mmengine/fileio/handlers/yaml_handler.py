"""YAML file handler (PyYAML, imported on first use)."""
import sys
from typing import Any, Optional

from .base import BaseFileHandler

_dumper: Optional[type] = None


def _safe_loader():
    import yaml
    return getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def _safe_dumper() -> type:
    """A safe dumper that also writes dict/list/tuple subclasses (e.g.
    ``ConfigDict``), sets and numpy values as plain YAML data."""
    global _dumper
    if _dumper is not None:
        return _dumper
    import yaml
    base = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)

    class MMEngineSafeDumper(base):  # type: ignore[misc, valid-type]
        pass

    def represent_undefined(dumper, data):
        if isinstance(data, (set, frozenset)):
            return dumper.represent_list(sorted(data, key=repr))
        np = sys.modules.get('numpy')
        if np is not None:
            if isinstance(data, np.ndarray):
                return dumper.represent_data(data.tolist())
            if isinstance(data, np.generic):
                return dumper.represent_data(data.item())
        raise yaml.representer.RepresenterError(
            f'cannot dump an object of type {type(data).__qualname__} to '
            f'YAML: {data!r:.200}; convert it to plain data (dict, list, str, '
            'int, float, bool, None) first')

    rep = yaml.SafeDumper.yaml_representers
    MMEngineSafeDumper.add_multi_representer(dict, rep[dict])
    MMEngineSafeDumper.add_multi_representer(list, rep[list])
    MMEngineSafeDumper.add_multi_representer(tuple, rep[list])
    MMEngineSafeDumper.add_multi_representer(str, rep[str])
    MMEngineSafeDumper.add_representer(None, represent_undefined)
    _dumper = MMEngineSafeDumper
    return _dumper


class YamlHandler(BaseFileHandler):
    """Handler for ``.yaml``/``.yml`` files.

    YAML files are data: loading uses PyYAML's *safe* loader (no Python
    object tags) and dumping writes plain YAML (tuples as lists; dict and
    list subclasses such as ``ConfigDict`` as mappings and sequences; numpy
    values as numbers/lists). Pass ``Loader=`` / ``Dumper=`` to use other
    PyYAML classes.
    """

    def load_from_fileobj(self, file, **kwargs) -> Any:
        """Parse YAML from ``file``.

        Raises:
            yaml.YAMLError: whose message gives the file name, line and
                column of the problem.
        """
        import yaml
        kwargs.setdefault('Loader', _safe_loader())
        return yaml.load(file, **kwargs)

    def dump_to_fileobj(self, obj: Any, file, **kwargs) -> None:
        """Write ``obj`` as YAML into ``file``."""
        import yaml
        kwargs.setdefault('Dumper', _safe_dumper())
        yaml.dump(obj, file, **kwargs)

    def dump_to_str(self, obj: Any, **kwargs) -> str:
        """Return ``obj`` as a YAML string."""
        import yaml
        kwargs.setdefault('Dumper', _safe_dumper())
        return yaml.dump(obj, **kwargs)
