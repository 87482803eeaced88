import warnings

import torch

from mmengine.utils.dl_utils import torch_meshgrid


def test_torch_meshgrid_ij_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        x = torch.tensor([1, 2, 3])
        y = torch.tensor([4, 5])
        grid_x, grid_y = torch_meshgrid(x, y)
    assert grid_x.shape == (3, 2)
    assert grid_x[:, 0].tolist() == [1, 2, 3]
    assert grid_y[0].tolist() == [4, 5]
