# The release recipe (xdecoder_focalt_recipe.py) for task-specific fine-tuning of the pre-trained
# X-Decoder Focal-T: 12 epochs, lr x 0.1 for the last one, validation every 2 epochs. The
# xdecoder_focalt_ft-12e_*.py configs list it in `_base_` with their model and dataset bases.
_base_ = ['./xdecoder_focalt_recipe.py']
max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[11], gamma=0.1,
         convert_to_iter_based=True),
]
