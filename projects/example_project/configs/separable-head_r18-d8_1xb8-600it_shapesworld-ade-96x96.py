# The toy FCN config with the project's SeparableConvHead instead of FCNHead.
_base_ = ['../../../configs/shapesworld/fcn_r18-d8_1xb8-600it_shapesworld-ade-96x96.py']
custom_imports = dict(imports=['projects.example_project.example_project'],
                      allow_failed_imports=False)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='mmgen_vision.SeparableConvHead',
        in_channels=128,
        in_index=3,
        channels=64,
        num_convs=2,
        num_classes=7,
        dropout_ratio=0.0,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
