# Prompt search (paper Sec. 3.3) for the toy Painter's semantic segmentation: the first 8
# training scenes are scored as prompts on 16 other training scenes (no test data is used for
# the choice); the best one prompts the whole test set.
#   CFG=configs/painter/painter_vit-tiny-p4_toy-shapesworld_semseg_prompt-search.py
#   python tools/test.py $CFG <ckpt>
# The scores and the chosen prompt are written to <work_dir>/prompt_search.json.
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld_semseg.py']
test_cfg = dict(
    _delete_=True,
    type='PainterPromptSearchLoop',
    candidates=dict(dataset={{_base_.sw_semseg}}, indices=list(range(8))),
    metric='mIoU',
    rule='greater',
    # the search subset: training scenes that are not candidates (packed like the test set)
    search_dataset=dict(
        _base_.test_dataloader.dataset.dataset,  # noqa: F821 (mmengine base variable)
        data_prefix=dict(img_path='images/training', seg_map_path='annotations/training'),
        indices=list(range(8, 24))),
    search_size=16,
    batch_size=8)
