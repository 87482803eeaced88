import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from mmengine.dataset import pseudo_collate
from mmengine.model import BaseDataPreprocessor, BaseModel, BaseTTAModel
from mmengine.registry import MODELS
from mmengine.structures import BaseDataElement, LabelData


class FlipClassifier(BaseModel):
    """Scores = softmax of a linear layer over the (flipped) 1-D input."""

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.linear = nn.Linear(4, 3)
        self.calls = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        logits = self.linear(torch.stack(inputs).float())
        if mode != 'predict':
            return logits
        self.calls += 1
        results = []
        for score, sample in zip(logits.softmax(-1), data_samples):
            sample = sample.clone()
            sample.pred_label = LabelData(score=score)
            results.append(sample)
        return results


class AverageClsScoreTTA(BaseTTAModel):
    """EX-MOD-07: average ``pred_label.score`` over the augmentations."""

    def merge_preds(self, data_samples_list):
        merged = []
        for samples in data_samples_list:
            out = samples[0].clone()
            out.pred_label = LabelData(
                score=torch.stack([s.pred_label.score
                                   for s in samples]).mean(0))
            merged.append(out)
        return merged


class SumTTA(BaseTTAModel):

    def merge_preds(self, data_samples_list):
        return [sum(x) for x in data_samples_list]


class EchoModel(BaseModel):

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.linear = nn.Linear(1, 1)

    def forward(self, inputs, data_samples, mode='tensor'):
        return data_samples


def test_average_cls_score_tta_ex_mod_07():
    torch.manual_seed(0)
    model = FlipClassifier()
    tta = AverageClsScoreTTA(model)
    images = [torch.randn(4) for _ in range(3)]
    # TestTimeAug output for 3 samples x 2 flips, collated per augmentation
    dataset = [
        dict(
            inputs=[img, img.flip(0)],
            data_samples=[BaseDataElement(idx=i, flip=False),
                          BaseDataElement(idx=i, flip=True)])
        for i, img in enumerate(images)
    ]
    batch = next(iter(DataLoader(dataset, batch_size=3,
                                 collate_fn=pseudo_collate)))
    results = tta.test_step(batch)
    assert model.calls == 2  # once per augmentation
    assert len(results) == 3
    with torch.no_grad():
        for i, (img, res) in enumerate(zip(images, results)):
            assert res.idx == i
            expected = (model.linear(img).softmax(-1) +
                        model.linear(img.flip(0)).softmax(-1)) / 2
            torch.testing.assert_close(res.pred_label.score, expected)


def test_dict_and_tuple_batches():
    tta = SumTTA(EchoModel())
    dict_loader = DataLoader([dict(inputs=[1, 2], data_samples=[3, 4])] * 4,
                             batch_size=2,
                             collate_fn=pseudo_collate)
    tuple_loader = DataLoader([([1, 2], [3, 4])] * 4,
                              batch_size=2,
                              collate_fn=pseudo_collate)
    for loader in (dict_loader, tuple_loader):
        for batch in loader:
            assert tta.test_step(batch) == [7, 7]


def test_init_from_module_or_config():
    model = EchoModel()
    tta = SumTTA(model)
    assert tta.module is model
    MODELS.register_module(name='_TTAEchoModel', module=EchoModel,
                           force=True)
    try:
        cfg = dict(type='_TTAEchoModel')
        tta = SumTTA(cfg, data_preprocessor=dict(type='BaseDataPreprocessor'))
        assert isinstance(tta.module, EchoModel)
        assert isinstance(tta.module.data_preprocessor, BaseDataPreprocessor)
        assert cfg == dict(type='_TTAEchoModel')  # caller's cfg not mutated
        built = MODELS.build(
            dict(type=SumTTA, module=dict(type='_TTAEchoModel')))
        assert isinstance(built.module, EchoModel)
    finally:
        MODELS.module_dict.pop('_TTAEchoModel', None)


def test_errors():
    with pytest.raises(TypeError, match='merge_preds'):
        BaseTTAModel(EchoModel())  # abstract
    with pytest.raises(TypeError, match='nn.Module or a config'):
        SumTTA('EchoModel')
    with pytest.raises(ValueError, match='data_preprocessor'):
        SumTTA(EchoModel(), data_preprocessor=dict(
            type='BaseDataPreprocessor'))
    with pytest.raises(TypeError, match='test_step'):
        SumTTA(nn.Linear(1, 1))
    tta = SumTTA(EchoModel())
    with pytest.raises(ValueError, match='same number of augmentations'):
        tta.test_step(dict(inputs=[[1], [2]], data_samples=[[3]]))
    with pytest.raises(TypeError, match='"inputs"'):
        tta.test_step(dict(inputs=torch.ones(2), data_samples=[[3]]))
    with pytest.raises(ValueError, match='same number of augmentations'):
        tta.test_step(([[1], [2]], [[3]]))
    with pytest.raises(TypeError, match='dict, list or tuple'):
        tta.test_step(torch.ones(2))
    with pytest.raises(ValueError, match='empty'):
        tta.test_step({})
    with pytest.raises(RuntimeError, match='test_step'):
        tta(torch.ones(1))


class _TTADataset(torch.utils.data.Dataset):
    """What a TestTimeAug pipeline yields: every value holds one entry per
    augmentation (here: the input and its flip)."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        img = torch.arange(4.) + i
        return dict(
            inputs=[img, img.flip(0)],
            data_samples=[BaseDataElement(idx=i),
                          BaseDataElement(idx=i)])


def test_tta_through_runner_config_rewrite(tmp_path):
    """The documented test-script rewrite: ``cfg.model = ConfigDict(
    **cfg.tta_model, module=cfg.model)``, then ``Runner.test()``."""
    from mmengine.config import Config, ConfigDict
    from mmengine.evaluator import BaseMetric
    from mmengine.registry import DATASETS, METRICS
    from mmengine.runner import Runner

    seen = []

    class CollectScores(BaseMetric):

        def process(self, data_batch, data_samples):
            self.results += [(s['idx'], s['pred_label']['score'])
                             for s in data_samples]

        def compute_metrics(self, results):
            seen.extend(results)
            return dict(num=len(results))

    names = [(MODELS, '_TTARunnerCls', FlipClassifier),
             (MODELS, '_TTARunnerAvg', AverageClsScoreTTA),
             (DATASETS, '_TTARunnerData', _TTADataset),
             (METRICS, '_TTARunnerMetric', CollectScores)]
    for registry, name, cls in names:
        registry.register_module(name=name, module=cls, force=True)
    try:
        cfg = Config(dict(
            model=dict(type='_TTARunnerCls'),
            tta_model=dict(type='_TTARunnerAvg'),
            work_dir=str(tmp_path),
            experiment_name='tta_runner',
            test_dataloader=dict(
                dataset=dict(type='_TTARunnerData'),
                sampler=dict(type='DefaultSampler', shuffle=False),
                batch_size=2),
            test_evaluator=dict(type='_TTARunnerMetric'),
            test_cfg=dict()))
        cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
        runner = Runner.from_cfg(cfg)
        assert isinstance(runner.model, AverageClsScoreTTA)
        assert runner.test() == dict(num=5)
        assert sorted(r[0] for r in seen) == list(range(5))
        inner = runner.model.module
        with torch.no_grad():
            for idx, score in seen:
                img = torch.arange(4.) + idx
                expected = (inner.linear(img).softmax(-1) +
                            inner.linear(img.flip(0)).softmax(-1)) / 2
                assert torch.allclose(score, expected)
    finally:
        for registry, name, _ in names:
            registry.module_dict.pop(name, None)
