"""Tests of the generic parameter schedulers and the shared base behaviour."""
import copy
import io
import math
import pickle
import warnings
from unittest import mock

import pytest
import torch
from torch import nn

from mmengine.optim import OptimWrapper
from mmengine.optim.scheduler import (ConstantParamScheduler,
                                      CosineAnnealingParamScheduler,
                                      CosineRestartParamScheduler,
                                      ExponentialParamScheduler,
                                      LinearParamScheduler,
                                      MultiStepParamScheduler,
                                      OneCycleParamScheduler,
                                      PolyParamScheduler,
                                      ReduceOnPlateauParamScheduler,
                                      StepParamScheduler, _ParamScheduler)
from mmengine.optim.scheduler.param_scheduler import (INF,
                                                      SchedulerArgumentError)
from mmengine.registry import PARAM_SCHEDULERS

LR = 0.05
WD = 5e-4
MULT = 10


def make_optimizer():
    """SGD with two param groups; the second has 10x lr and weight decay."""
    model = nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1))
    return torch.optim.SGD([{
        'params': model[0].parameters()
    }, {
        'params': model[1].parameters(),
        'lr': LR * MULT,
        'weight_decay': WD * MULT
    }],
                           lr=LR,
                           momentum=0.9,
                           weight_decay=WD)


def run(schedulers, optimizer, steps, param='lr', step_kwargs=None):
    """Record the value of group 0 before each of ``steps`` steps."""
    if not isinstance(schedulers, list):
        schedulers = [schedulers]
    values = []
    for i in range(steps):
        values.append(optimizer.param_groups[0][param])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step(**(step_kwargs[i] if step_kwargs else {}))
    return values


def assert_curve(actual, expected, tol=1e-9):
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert a == pytest.approx(e, abs=tol), f'step {i}: {a} != {e}'


@pytest.fixture
def optimizer():
    return make_optimizer()


# ---------------------------------------------------------------- curves
def test_constant(optimizer):
    s = ConstantParamScheduler(optimizer, 'lr', factor=0.5, end=5)
    assert_curve(run(s, optimizer, 8), [LR * 0.5] * 4 + [LR] * 4)
    assert optimizer.param_groups[1]['lr'] == pytest.approx(LR * MULT)


def test_constant_zero_factor_restores_value(optimizer):
    s = ConstantParamScheduler(optimizer, 'lr', factor=0, end=3)
    assert_curve(run(s, optimizer, 4), [0, 0, LR, LR])


def test_exponential_on_weight_decay(optimizer):
    s = ExponentialParamScheduler(optimizer, 'weight_decay', gamma=0.9)
    assert_curve(
        run(s, optimizer, 6, 'weight_decay'), [WD * 0.9**i for i in range(6)])
    assert optimizer.param_groups[1]['weight_decay'] == pytest.approx(
        WD * MULT * 0.9**6)
    assert optimizer.param_groups[0]['lr'] == LR  # untouched


def test_step(optimizer):
    s = StepParamScheduler(optimizer, 'lr', step_size=3, gamma=0.1)
    assert_curve(
        run(s, optimizer, 10),
        [LR] * 3 + [LR * 0.1] * 3 + [LR * 0.01] * 3 + [LR * 0.001])


def test_multi_step_repeated_milestone(optimizer):
    s = MultiStepParamScheduler(optimizer, 'lr', milestones=[2, 4, 4])
    assert_curve(run(s, optimizer, 6), [LR] * 2 + [LR * 0.1] * 2 +
                 [LR * 0.001] * 2)


def test_linear(optimizer):
    s = LinearParamScheduler(
        optimizer, 'lr', start_factor=0.5, end_factor=1.0, end=5)
    expected = [LR * (0.5 + 0.5 * t / 4) for t in range(5)] + [LR] * 3
    assert_curve(run(s, optimizer, 8), expected)


def test_linear_from_zero(optimizer):
    # a factor of 0 cannot be undone by the chainable form
    s = LinearParamScheduler(optimizer, 'lr', start_factor=0, end=5)
    expected = [LR * t / 4 for t in range(5)] + [LR]
    assert_curve(run(s, optimizer, 6), expected)


def test_cosine_annealing_wraps_after_t_max(optimizer):
    eta_min = 1e-3
    s = CosineAnnealingParamScheduler(
        optimizer, 'lr', T_max=4, eta_min=eta_min)
    expected = [
        eta_min + (LR - eta_min) * (1 + math.cos(math.pi * t / 4)) / 2
        for t in range(10)
    ]
    assert_curve(run(s, optimizer, 10), expected)


def test_cosine_annealing_eta_min_ratio_and_default_t_max(optimizer):
    s = CosineAnnealingParamScheduler(
        optimizer, 'lr', eta_min_ratio=0.1, begin=2, end=6)
    assert s.T_max == 4
    values = run(s, optimizer, 7)
    # the window is steps 2..5, i.e. t = 0..3 (the minimum t=4 is outside)
    expected = [
        LR * 0.1 + LR * 0.9 * (1 + math.cos(math.pi * t / 4)) / 2
        for t in range(4)
    ]
    assert_curve(values, [LR, LR] + expected + [expected[-1]])
    assert optimizer.param_groups[1]['lr'] == pytest.approx(
        expected[-1] * MULT)


def test_poly(optimizer):
    s = PolyParamScheduler(optimizer, 'lr', eta_min=1e-3, power=2., end=5)
    expected = [1e-3 + (LR - 1e-3) * (1 - t / 4)**2 for t in range(5)]
    assert_curve(run(s, optimizer, 7), expected + [1e-3] * 2)


def test_cosine_restart(optimizer):
    s = CosineRestartParamScheduler(
        optimizer, 'lr', periods=[2, 3], restart_weights=[1, 0.5])

    def cos(top, t, period):
        return top * (1 + math.cos(math.pi * t / period)) / 2

    expected = [cos(LR, 0, 2), cos(LR, 1, 2)] + [
        cos(LR * 0.5, t, 3) for t in range(3)
    ]
    values = run(s, optimizer, 7)
    assert_curve(values[:5], expected)
    assert values[5] == values[6] == pytest.approx(values[4])


@pytest.mark.parametrize('strategy', ['cos', 'linear'])
def test_one_cycle(optimizer, strategy):
    s = OneCycleParamScheduler(
        optimizer,
        'lr',
        eta_max=[1.0, 2.0],
        total_steps=10,
        pct_start=0.3,
        anneal_strategy=strategy,
        final_div_factor=2)
    values = run(s, optimizer, 12)
    assert values[0] == pytest.approx(1.0 / 25)
    assert values[2] == pytest.approx(1.0)  # peak at pct_start
    assert values[9] == pytest.approx(1.0 / 25 / 2)
    # after total_steps the final value is kept
    assert values[10] == values[11] == pytest.approx(values[9])
    assert optimizer.param_groups[1]['max_lr'] == 2.0


def test_one_cycle_three_phase(optimizer):
    s = OneCycleParamScheduler(
        optimizer,
        'lr',
        eta_max=25,
        total_steps=10,
        pct_start=0.4,
        anneal_strategy='linear',
        div_factor=25,
        final_div_factor=4,
        three_phase=True)
    assert_curve(
        run(s, optimizer, 10),
        [1., 9., 17., 25., 17., 9., 1., 0.75, 0.5, 0.25])


def test_one_cycle_total_steps_from_window(optimizer):
    s = OneCycleParamScheduler(optimizer, 'lr', begin=2, end=12)
    assert s.total_steps == 10


def test_reduce_on_plateau(optimizer):
    s = ReduceOnPlateauParamScheduler(
        optimizer, 'lr', monitor='acc', rule='greater', patience=1,
        cooldown=1, min_value=[0.004, 0.0])
    assert s.need_val_args
    metrics = [1, 2, 2, 2, 2, 2, 2]
    kwargs = [dict(metrics=dict(acc=torch.tensor(float(m))))
              for m in metrics]
    values = run(s, optimizer, 7, step_kwargs=kwargs)
    # bad epochs: 0, 0, 1, 2 -> reduce after step 3; cooldown 1; 1, 2 ->
    # reduce after step 6 (clamped at min_value)
    assert_curve(values, [LR] * 4 + [LR * 0.1] * 3)
    assert optimizer.param_groups[0]['lr'] == pytest.approx(0.004)
    assert optimizer.param_groups[1]['lr'] == pytest.approx(LR * MULT * .01)


def test_reduce_on_plateau_epoch_counting_and_window(optimizer):
    s = ReduceOnPlateauParamScheduler(
        optimizer, 'lr', patience=0, begin=2, end=4)
    s.step(dict(loss=1.0))  # epoch 0: outside the window
    assert s.last_step == -1
    s.step()
    s.step()  # two epochs counted
    s.step(dict(loss=1.0))
    s.step(dict(loss=1.0))  # not better -> reduce
    assert optimizer.param_groups[0]['lr'] == pytest.approx(LR * 0.1)


# ------------------------------------------------------------ combining
def test_window_gap_and_overlap(optimizer):
    warmup = LinearParamScheduler(
        optimizer, 'lr', start_factor=0.5, begin=0, end=3)
    decay = StepParamScheduler(
        optimizer, 'lr', step_size=2, gamma=0.5, begin=1, end=5)
    values = run([warmup, decay], optimizer, 8)
    # warm-up factors 0.5, .75, 1 (steps 0-2); the decay is active at steps
    # 1-4 and decays 2 steps after its begin (step 3); step 5 is past its end
    expected = [LR * .5, LR * .75, LR] + [LR * .5] * 5
    assert_curve(values, expected)


def test_late_begin_does_not_touch_values(optimizer):
    s = ExponentialParamScheduler(optimizer, 'lr', gamma=0.5, begin=3)
    assert s.last_step == -1
    assert_curve(run(s, optimizer, 6), [LR] * 4 + [LR * 0.5, LR * 0.25])


# -------------------------------------------------------- construction
def test_initial_values_are_recorded(optimizer):
    optimizer.param_groups[0]['initial_lr'] = 1.0  # kept (setdefault)
    s = ExponentialParamScheduler(optimizer, 'lr', gamma=0.5)
    assert s.base_values == [1.0, LR * MULT]
    assert optimizer.param_groups[1]['initial_lr'] == LR * MULT
    assert s.last_step == 0
    assert s.get_last_value() == [LR, LR * MULT]


def test_resume_with_last_step(optimizer):
    s = ExponentialParamScheduler(optimizer, 'lr', gamma=0.5)
    run(s, optimizer, 3)
    resumed = ExponentialParamScheduler(
        optimizer, 'lr', gamma=0.5, last_step=3)
    assert resumed.last_step == 4
    assert optimizer.param_groups[0]['lr'] == pytest.approx(LR * 0.5**4)


def test_resume_without_initial_value_raises(optimizer):
    with pytest.raises(KeyError, match="'initial_lr' is not specified"):
        StepParamScheduler(optimizer, 'lr', step_size=2, last_step=3)


def test_base_class_is_abstract(optimizer):
    with pytest.raises(NotImplementedError, match='_get_value'):
        _ParamScheduler(optimizer, 'lr')


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(optimizer='sgd'), TypeError, r'`optimizer` \(str\) should be an '
     'Optimizer'),
    (dict(param_name=3), TypeError, '`param_name` should be a str'),
    (dict(param_name='nope'), KeyError, "param_name 'nope' is not a key"),
    (dict(begin=5, end=5), ValueError, 'end should be larger than begin'),
    (dict(begin=1.5), TypeError, '`begin` should be an int'),
    (dict(end='10'), TypeError, '`end` should be an int'),
    (dict(last_step=-2), AssertionError, '`last_step` should be an int'),
    (dict(last_step=1.5), ValueError, '`last_step` should be an int'),
    (dict(step_size=0), ValueError, '`step_size` should be a positive int'),
    (dict(step_size=2.0), TypeError, '`step_size` should be an int'),
    (dict(gamma='0.1'), TypeError, '`gamma` should be a number'),
])
def test_argument_errors(optimizer, kwargs, error, match):
    args = dict(optimizer=optimizer, param_name='lr', step_size=2)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        StepParamScheduler(**args)


def test_specific_argument_errors(optimizer):
    with pytest.raises(ValueError, match='`factor` should be between 0 and'):
        ConstantParamScheduler(optimizer, 'lr', factor=1.5)
    with pytest.raises(ValueError, match='`start_factor`'):
        LinearParamScheduler(optimizer, 'lr', start_factor=-0.1)
    with pytest.raises(ValueError, match='`end_factor`'):
        LinearParamScheduler(optimizer, 'lr', end_factor=2)
    with pytest.raises(TypeError, match='`milestones` should be a list'):
        MultiStepParamScheduler(optimizer, 'lr', milestones=5)
    with pytest.raises(TypeError, match='milestones'):
        MultiStepParamScheduler(optimizer, 'lr', milestones=['5'])
    with pytest.raises(ValueError, match='`T_max` is required'):
        CosineAnnealingParamScheduler(optimizer, 'lr')
    with pytest.raises(ValueError, match='`T_max` should be positive'):
        CosineAnnealingParamScheduler(optimizer, 'lr', T_max=0)
    with pytest.raises(SchedulerArgumentError, match='not both'):
        CosineAnnealingParamScheduler(
            optimizer, 'lr', T_max=3, eta_min=0, eta_min_ratio=0.1)
    with pytest.raises(AssertionError, match='same length'):
        CosineRestartParamScheduler(
            optimizer, 'lr', periods=[1, 2], restart_weights=[1])
    with pytest.raises(TypeError, match='`periods`'):
        CosineRestartParamScheduler(optimizer, 'lr', periods=3)
    with pytest.raises(ValueError, match='positive int `total_steps`'):
        OneCycleParamScheduler(optimizer, 'lr', total_steps=0)
    with pytest.raises(ValueError, match='`total_steps` is required'):
        OneCycleParamScheduler(optimizer, 'lr')
    with pytest.raises(ValueError, match='`pct_start`'):
        OneCycleParamScheduler(optimizer, 'lr', total_steps=5, pct_start=2.)
    with pytest.raises(ValueError, match='`anneal_strategy`'):
        OneCycleParamScheduler(
            optimizer, 'lr', total_steps=5, anneal_strategy='x')
    with pytest.raises(TypeError, match='`eta_max` should be a number'):
        OneCycleParamScheduler(optimizer, 'lr', total_steps=5, eta_max='1')
    with pytest.raises(TypeError, match=r'`restart_weights\[...\]`'):
        CosineRestartParamScheduler(
            optimizer, 'lr', periods=[1], restart_weights=['1'])
    with pytest.raises(ValueError, match='`eta_max` has 3 values'):
        OneCycleParamScheduler(
            optimizer, 'lr', total_steps=5, eta_max=[1, 2, 3])


def test_reduce_on_plateau_errors(optimizer):
    cls = ReduceOnPlateauParamScheduler
    with pytest.raises(TypeError, match='should be an Optimizer'):
        cls('x', 'lr')
    with pytest.raises(AssertionError, match='by_epoch=True'):
        cls(optimizer, 'lr', by_epoch=False)
    with pytest.raises(ValueError, match='`factor` should be < 1.0'):
        cls(optimizer, 'lr', factor=1.0)
    with pytest.raises(ValueError, match='`rule`'):
        cls(optimizer, 'lr', rule='max')
    with pytest.raises(ValueError, match='`threshold_rule`'):
        cls(optimizer, 'lr', threshold_rule='x')
    with pytest.raises(ValueError, match='`threshold` should be >= 0'):
        cls(optimizer, 'lr', threshold=-1)
    with pytest.raises(ValueError, match='`min_value` has 3 values'):
        cls(optimizer, 'lr', min_value=[0, 0, 0])
    s = cls(optimizer, 'lr', monitor='loss')
    with pytest.raises(TypeError, match='`metrics` should be a dict'):
        s.step([('loss', 1.0)])
    with pytest.raises(KeyError, match="'loss' is not in the metrics"):
        s.step(dict(acc=1.0))
    with pytest.raises(TypeError, match="'loss' should be a number"):
        s.step(dict(loss='high'))


# ----------------------------------------------------------- warnings
def test_warns_when_scheduler_steps_before_optimizer(optimizer):
    s = StepParamScheduler(optimizer, 'lr', step_size=2)
    with pytest.warns(UserWarning, match='before `optimizer.step\\(\\)`'):
        s.step()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        s.step()  # checked once only


def test_warns_when_optimizer_step_is_overridden(optimizer):
    s = StepParamScheduler(optimizer, 'lr', step_size=2)
    optimizer.step = lambda: None
    optimizer.step()
    with pytest.warns(UserWarning, match='how-to-adjust-learning-rate'):
        s.step()


def test_no_warning_in_the_right_order(optimizer):
    s = StepParamScheduler(optimizer, 'lr', step_size=2)
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        s.step()


def test_no_warning_while_optim_wrapper_accumulates():
    model = nn.Linear(1, 1)
    wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1), accumulative_counts=2)
    s = StepParamScheduler(wrapper, 'lr', step_size=2, by_epoch=False)
    wrapper.update_params(model(torch.ones(1, 1)).sum())  # no step yet
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        s.step()


def test_verbose_logs_each_change(optimizer):
    target = 'mmengine.optim.scheduler.param_scheduler.print_log'
    with mock.patch(target) as print_log:
        s = ExponentialParamScheduler(
            optimizer, 'lr', gamma=0.5, verbose=True)
        optimizer.step()
        s.step()
    messages = [c.args[0] for c in print_log.call_args_list]
    assert 'Adjusting parameter value of group 0 to 2.5000e-02.' in messages
    assert len(messages) == 4  # 2 groups x (initial step + 1 step)


# -------------------------------------------------------------- state
ALL_SCHEDULERS = [
    lambda o: ConstantParamScheduler(o, 'lr', factor=0.5, end=4),
    lambda o: ExponentialParamScheduler(o, 'lr', gamma=0.9),
    lambda o: StepParamScheduler(o, 'lr', step_size=2),
    lambda o: MultiStepParamScheduler(o, 'lr', milestones=[1, 3, 3]),
    lambda o: LinearParamScheduler(o, 'lr', start_factor=0.1, end=6),
    lambda o: CosineAnnealingParamScheduler(o, 'lr', T_max=3),
    lambda o: PolyParamScheduler(o, 'lr', power=0.5, end=7),
    lambda o: CosineRestartParamScheduler(
        o, 'lr', periods=[2, 3], restart_weights=[1, 0.5]),
    lambda o: OneCycleParamScheduler(o, 'lr', total_steps=8),
    lambda o: ReduceOnPlateauParamScheduler(o, 'lr', patience=0),
]


def _step_all(scheduler, optimizer, n):
    for i in range(n):
        optimizer.step()
        if scheduler.need_val_args:
            scheduler.step(dict(loss=1.0 + i % 2))
        else:
            scheduler.step()


@pytest.mark.parametrize('build', ALL_SCHEDULERS)
def test_state_dict_round_trip_is_exact(build):
    """Save mid-run with weights_only torch.save, resume into fresh objects,
    and continue: the values are bitwise those of an uninterrupted run."""
    straight_opt = make_optimizer()
    straight = build(straight_opt)
    _step_all(straight, straight_opt, 8)

    opt = make_optimizer()
    scheduler = build(opt)
    _step_all(scheduler, opt, 3)
    state = scheduler.state_dict()
    assert 'optimizer' not in state
    buffer = io.BytesIO()
    torch.save({'opt': opt.state_dict(), 'sched': state}, buffer)
    buffer.seek(0)
    ckpt = torch.load(buffer, weights_only=True)

    resumed_opt = make_optimizer()
    resumed = build(resumed_opt)
    resumed_opt.load_state_dict(ckpt['opt'])
    resumed.load_state_dict(ckpt['sched'])
    assert resumed.state_dict() == state
    _step_all(resumed, resumed_opt, 5)
    assert [g['lr'] for g in resumed_opt.param_groups] == \
        [g['lr'] for g in straight_opt.param_groups]
    assert resumed.get_last_value() == straight.get_last_value()


def test_multi_step_state_keeps_counter(optimizer):
    s = MultiStepParamScheduler(optimizer, 'lr', milestones=[2, 2])
    state = s.state_dict()
    assert type(state['milestones']) is dict
    s.load_state_dict(state)
    assert s.milestones == {2: 2} and hasattr(s.milestones, 'most_common')


def test_load_state_dict_errors(optimizer):
    s = StepParamScheduler(optimizer, 'lr', step_size=2)
    with pytest.raises(TypeError, match='expects a dict'):
        s.load_state_dict([1, 2])
    other = ExponentialParamScheduler(optimizer, 'lr', gamma=0.5)
    with pytest.raises(KeyError, match=r"\['step_size'\] are missing"):
        s.load_state_dict(other.state_dict())
    state = s.state_dict()
    state['unknown'] = 1
    with pytest.warns(UserWarning, match="unknown keys \\['unknown'\\]"):
        s.load_state_dict(state)
    assert not hasattr(s, 'unknown')


# --------------------------------------------------------- conversion
def test_build_iter_from_epoch_scales_epoch_arguments(optimizer):
    s = StepParamScheduler.build_iter_from_epoch(
        optimizer, 'lr', 2, gamma=0.5, begin=1, end=4, epoch_length=5)
    assert (s.step_size, s.begin, s.end, s.by_epoch) == (10, 5, 20, False)
    s = MultiStepParamScheduler.build_iter_from_epoch(
        optimizer, 'lr', milestones=[1, 3], epoch_length=4)
    assert s.milestones == {4: 1, 12: 1} and s.end == INF
    s = CosineAnnealingParamScheduler.build_iter_from_epoch(
        optimizer, 'lr', T_max=2.5, epoch_length=4)
    assert s.T_max == 10.
    s = CosineAnnealingParamScheduler.build_iter_from_epoch(
        optimizer, 'lr', begin=1, end=3, epoch_length=4)
    assert s.T_max == 8
    s = CosineRestartParamScheduler.build_iter_from_epoch(
        optimizer, 'lr', periods=[1, 2], restart_weights=[1, 1],
        epoch_length=3)
    assert s.periods == [3, 6] and s.cumulative_periods == [3, 9]
    s = OneCycleParamScheduler.build_iter_from_epoch(
        optimizer, 'lr', total_steps=2, epoch_length=3)
    assert s.total_steps == 6
    s = LinearParamScheduler.build_iter_from_epoch(
        optimizer, 'lr', start_factor=0.5, end=2, epoch_length=3)
    assert s.total_iters == 5 and s.start_factor == 0.5


def test_build_iter_from_epoch_errors(optimizer):
    with pytest.raises(AssertionError, match='`epoch_length` must be'):
        StepParamScheduler.build_iter_from_epoch(
            optimizer, 'lr', step_size=1, epoch_length=0)
    with pytest.raises(ValueError, match='`epoch_length` must be'):
        StepParamScheduler.build_iter_from_epoch(
            optimizer, 'lr', step_size=1)
    with pytest.raises(ValueError, match='by_epoch=False'):
        StepParamScheduler.build_iter_from_epoch(
            optimizer, 'lr', step_size=1, by_epoch=False, epoch_length=2)
    with pytest.raises(TypeError, match='build_iter_from_epoch'):
        StepParamScheduler.build_iter_from_epoch(
            optimizer, 'lr', step_size=1, foo=3, epoch_length=2)
    with pytest.raises(TypeError, match=r"pass \['begin'\] by keyword"):
        StepParamScheduler.build_iter_from_epoch(
            optimizer, 'lr', 1, 0.1, 2, epoch_length=2)


def test_registry_convert_to_iter_based(optimizer):
    """EX-OPT-13(d)/(h): generic scheduler built from a config."""
    cfg = dict(
        type='LinearParamScheduler',
        param_name='weight_decay',
        start_factor=0.5,
        end=2,
        convert_to_iter_based=True)
    s = PARAM_SCHEDULERS.build(
        cfg, default_args=dict(optimizer=optimizer, epoch_length=3))
    assert not s.by_epoch and s.end == 6
    values = run(s, optimizer, 7, param='weight_decay')
    assert_curve(values, [WD * (0.5 + 0.5 * t / 5) for t in range(6)] + [WD])


def test_all_generic_schedulers_are_registered():
    for name in ('ConstantParamScheduler', 'CosineAnnealingParamScheduler',
                 'ExponentialParamScheduler', 'LinearParamScheduler',
                 'MultiStepParamScheduler', 'StepParamScheduler',
                 'PolyParamScheduler', 'OneCycleParamScheduler',
                 'CosineRestartParamScheduler',
                 'ReduceOnPlateauParamScheduler'):
        assert PARAM_SCHEDULERS.get(name).__name__ == name


def test_generic_schedulers_importable_from_param_scheduler_module():
    from mmengine.optim.scheduler import param_scheduler
    assert param_scheduler.LinearParamScheduler is LinearParamScheduler
    with pytest.raises(AttributeError, match='no attribute'):
        param_scheduler.NoSuchScheduler


# ------------------------------------------------- optimizer wrappers
def test_optim_wrapper_base_settings_follow_the_schedule():
    wrapper = OptimWrapper(make_optimizer())
    assert wrapper.base_param_settings is not None
    s = StepParamScheduler(wrapper, 'lr', step_size=1, gamma=0.5)
    wrapper.step()
    s.step()
    assert s.get_last_value() == pytest.approx(
        [LR * .5, LR * MULT * .5, LR * .5])
    assert wrapper.get_lr()['base_lr'] == pytest.approx([LR * 0.5])


def test_counted_step_survives_copy_and_pickle():
    wrapper = OptimWrapper(torch.optim.SGD(nn.Linear(1, 1).parameters(), 1.))
    StepParamScheduler(wrapper, 'lr', step_size=1)
    for clone in (copy.deepcopy(wrapper),
                  pickle.loads(pickle.dumps(wrapper))):
        clone.step()
        assert clone._param_scheduler_step_count == 1
        assert wrapper._param_scheduler_step_count == 0


def test_only_assert_style_checks_are_assertion_errors(optimizer):
    """SchedulerArgumentError (also an AssertionError) only where the
    original engine asserted; other bad values are plain ValueErrors."""
    with pytest.raises(ValueError) as info:
        StepParamScheduler(optimizer, 'lr', step_size=0)
    assert not isinstance(info.value, AssertionError)
    with pytest.raises(ValueError) as info:
        CosineRestartParamScheduler(
            optimizer, 'lr', periods=[0], restart_weights=[1])
    assert not isinstance(info.value, AssertionError)
    with pytest.raises(ValueError, match='by_epoch=False') as info:
        StepParamScheduler.build_iter_from_epoch(
            optimizer, 'lr', step_size=1, by_epoch=False, epoch_length=2)
    assert not isinstance(info.value, AssertionError)
    with pytest.raises(TypeError, match='`eta_min_ratio` should be a number'):
        CosineAnnealingParamScheduler(
            optimizer, 'lr', T_max=2, eta_min_ratio='0.1')


def test_build_iter_from_epoch_checks_interval_in_epochs(optimizer):
    with pytest.raises(ValueError, match=r'begin=6, end=5 \(epochs\)'):
        StepParamScheduler.build_iter_from_epoch(
            optimizer, 'lr', step_size=1, begin=6, end=5, epoch_length=4)
    with pytest.raises(TypeError, match='`begin` should be a number'):
        StepParamScheduler.build_iter_from_epoch(
            optimizer, 'lr', step_size=1, begin='1', epoch_length=4)
    # fractional epochs that land on whole iterations become ints
    s = StepParamScheduler.build_iter_from_epoch(
        optimizer, 'lr', step_size=2.5, begin=0.5, end=3.5, epoch_length=4)
    assert (s.step_size, s.begin, s.end) == (10, 2, 14)
    assert type(s.step_size) is int
    s = MultiStepParamScheduler.build_iter_from_epoch(
        optimizer, 'lr', milestones=[1.5, 2], epoch_length=2)
    assert s.milestones == {3: 1, 4: 1}
    # ``max_iters / epoch_length`` epochs scale back to ``max_iters``
    for max_iters, epoch_length in ((24, 5), (49, 7), (1000, 3)):
        s = StepParamScheduler.build_iter_from_epoch(
            optimizer, 'lr', step_size=1, end=max_iters / epoch_length,
            epoch_length=epoch_length)
        assert s.end == max_iters


def test_reduce_on_plateau_cannot_be_converted(optimizer):
    with pytest.raises(ValueError, match='cannot be converted'):
        PARAM_SCHEDULERS.build(
            dict(type='ReduceOnPlateauParamScheduler', param_name='lr',
                 convert_to_iter_based=True),
            default_args=dict(optimizer=optimizer, epoch_length=3))


def test_optim_wrapper_dict_is_rejected_with_a_hint():
    from mmengine.optim import OptimWrapperDict
    wrappers = OptimWrapperDict(a=OptimWrapper(make_optimizer()))
    with pytest.raises(TypeError, match='one scheduler per wrapper'):
        StepParamScheduler(wrappers, 'lr', step_size=1)


def test_base_param_settings_value_survives_state_dict_round_trip():
    """The OptimWrapper's base group (reported as ``base_lr``) is not in the
    optimizer's state dict; the scheduler's state restores it."""
    wrapper = OptimWrapper(make_optimizer())
    s = StepParamScheduler(wrapper, 'lr', step_size=1, gamma=0.5)
    for _ in range(3):
        wrapper.step()
        s.step()
    state = s.state_dict()
    optim_state = wrapper.state_dict()
    torch.save(dict(s=state), io.BytesIO())  # plain types only

    fresh = OptimWrapper(make_optimizer())
    s2 = StepParamScheduler(fresh, 'lr', step_size=1, gamma=0.5)
    fresh.load_state_dict(optim_state)
    s2.load_state_dict(state)
    assert fresh.get_lr() == wrapper.get_lr()
    assert fresh.get_lr()['base_lr'] == pytest.approx([LR * 0.5**3])
    wrapper.step(), s.step(), fresh.step(), s2.step()
    assert fresh.get_lr() == wrapper.get_lr()
    # a state without the value (or a raw optimizer) loads as before
    plain = StepParamScheduler(make_optimizer(), 'lr', step_size=1)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        plain.load_state_dict(state)


def test_public_names_re_exported_from_mmengine_optim():
    """Spec 06 §1: the scheduler module is also re-exported from
    ``mmengine.optim``; every public scheduler is registered."""
    import mmengine.optim
    import mmengine.optim.scheduler as scheduler
    for name in scheduler.__all__:
        assert getattr(mmengine.optim, name) is getattr(scheduler, name)
        if name != '_ParamScheduler':
            assert PARAM_SCHEDULERS.get(name) is getattr(scheduler, name)


@pytest.mark.parametrize('cfg, error, match', [
    (dict(type='LinearLR', begin=5, end=5), ValueError,
     'LinearLR: end should be larger than begin, but got begin=5, end=5'),
    (dict(type='LinearLR', begin=6, end=5, convert_to_iter_based=True),
     ValueError, r'begin=6, end=5 \(epochs\)'),
    (dict(type='LinearParamScheduler', param_name='wd'), KeyError,
     "param_name 'wd' is not a key of optimizer.param_groups\\[0\\]; "
     "available keys: .*'weight_decay'"),
    (dict(type='LinearLR', by_epoch=False, convert_to_iter_based=True),
     ValueError, 'by_epoch=False'),
    (dict(type='StepLR', step_size=0), ValueError,
     '`step_size` should be a positive int, but got 0'),
])
def test_bad_configs_name_the_argument(optimizer, cfg, error, match):
    """Errors for bad scheduler configs built as the Runner builds them."""
    with pytest.raises(error, match=match):
        PARAM_SCHEDULERS.build(
            cfg, default_args=dict(optimizer=OptimWrapper(optimizer),
                                   epoch_length=4))
