"""Download a checkpoint by URL into the torch hub cache."""
from typing import Any, Callable, Dict, Optional, Union

import torch


def load_url(url: str,
             model_dir: Optional[str] = None,
             map_location: Optional[Union[str, torch.device, Callable,
                                          Dict]] = None,
             progress: bool = True,
             check_hash: bool = False,
             file_name: Optional[str] = None,
             weights_only: bool = True) -> Any:
    """Load a serialised state dict from ``url``, downloading it once into
    ``model_dir`` (``$TORCH_HOME/hub/checkpoints`` by default).

    Args:
        url (str): URL of the file.
        model_dir (str, optional): cache directory.
        map_location: passed to ``torch.load``.
        progress (bool): show a download progress bar. Defaults to True.
        check_hash (bool): verify the hash prefix in the file name.
            Defaults to False.
        file_name (str, optional): name of the cached file; taken from
            the URL when None.
        weights_only (bool): load without arbitrary unpickling; set False
            only for a trusted file that stores other Python objects.
            Defaults to True.

    Returns:
        The loaded object (usually a dict).
    """
    return torch.hub.load_state_dict_from_url(
        url,
        model_dir=model_dir,
        map_location=map_location,
        progress=progress,
        check_hash=check_hash,
        file_name=file_name,
        weights_only=weights_only)
