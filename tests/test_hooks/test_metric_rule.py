from mmengine.hooks.metric_rule import RULE_MAP, infer_rule


def test_infer_rule():
    assert infer_rule('accuracy') == 'greater'
    assert infer_rule('coco/bbox_mAP') == 'greater'
    assert infer_rule('val_loss') == 'less'
    assert infer_rule('LOSS') == 'less'  # case-insensitive
    assert infer_rule('acc_loss') == 'greater'  # greater fragments first
    assert infer_rule('f1') is None
    assert infer_rule('f1', greater_keys=['f1']) == 'greater'
    # An exact match wins over fragments of the other list.
    assert infer_rule('top', greater_keys=['acc'], less_keys=['top']) == \
        'less'
    assert RULE_MAP['greater'](2, 1) and RULE_MAP['less'](1, 2)
    assert not RULE_MAP['greater'](1, 1)
