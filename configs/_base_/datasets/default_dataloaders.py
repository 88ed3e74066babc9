# The loader settings the dataset bases share (mmdet's defaults): 2 shuffled training samples
# per GPU; validation and testing one image at a time, in order, none dropped; 2 persistent
# workers. A dataset base lists this file in `_base_` and adds its dataset and what differs.
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
