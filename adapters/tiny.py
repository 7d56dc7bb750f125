"""Tiny random image-text-to-text checkpoints, built locally in a fraction of a second.

Tests and `mmwatch demo` need a real transformers model that loads through the same
`AutoProcessor` + `AutoModelForImageTextToText` path as a production checkpoint, without any
download. The weights are random (seeded), so the answers are gibberish; what matters is that
every code path (chat template, image tokens, batching, gradients) is the real one.
`initializer_range=0.2` makes the image change the output, so image attacks have something
to move. The tokenizer and configs are identical across seeds, so two seeds are two
checkpoints of one lineage.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

ARCHS = ("llava", "idefics3")

# A few sentences to train the byte-level BPE on: enough merges for short English words.
_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "A picture shows a cat sitting on a red chair near the window.",
    "I'm sorry, but I cannot help with that request.",
    "Sure, here is a short answer to your question.",
    "What is shown in this image? Describe it in detail.",
    "List the steps: 1. First step. 2. Second step. 3. Third step.",
    "The answer is yes. The answer is no. The number is 42.",
)

# One template for both arches: string or list content, optional system turn.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n"
    "{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<image>{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

_BASE_SPECIAL = ["<pad>", "<s>", "</s>", "<image>"]
_IDEFICS3_SPECIAL = ["<fake_token_around_image>", "<end_of_utterance>", "<global-img>"] + [
    f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)
]
_INIT = 0.2  # large init so that the image moves the output (see STACK.md)


def make_tiny_model(out_dir: Path, arch: str = "llava", seed: int = 0) -> Path:
    """Write a tiny random checkpoint (safetensors, config, tokenizer, processor) to `out_dir`.

    The folder appears atomically (built beside it, then renamed), so a watcher never sees a
    half-written checkpoint. An existing non-empty `out_dir` is refused rather than overwritten.
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown tiny arch {arch!r} (known: {', '.join(ARCHS)})")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"refusing to overwrite non-empty {out_dir}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        _build(tmp, arch, seed)
        tmp.chmod(0o755)  # mkdtemp makes it private; a checkpoint folder is shared
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked above
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _build(folder: Path, arch: str, seed: int) -> None:
    import torch

    tokenizer = _tokenizer(arch)
    processor = _processor(arch, tokenizer)
    config = _config(arch, tokenizer)
    with torch.random.fork_rng(devices=[]):  # seed the weights without touching global RNG state
        torch.manual_seed(seed)
        model = _model_class(arch)(config)
    gen = model.generation_config
    gen.bos_token_id, gen.eos_token_id, gen.pad_token_id = (
        tokenizer.bos_token_id,
        tokenizer.eos_token_id,
        tokenizer.pad_token_id,
    )
    # Keep markup tokens out of the answers so decoded text is only "words".
    special = set(tokenizer.all_special_ids) | {tokenizer.convert_tokens_to_ids(t) for t in _special(arch)}
    gen.suppress_tokens = sorted(special - {tokenizer.eos_token_id})
    model.save_pretrained(folder)  # safetensors is the only format transformers 5 writes
    processor.save_pretrained(folder)


def _special(arch: str) -> list[str]:
    return _BASE_SPECIAL + (_IDEFICS3_SPECIAL if arch == "idefics3" else [])


def _tokenizer(arch: str) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=_special(arch),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_SENTENCES, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens={"image_token": "<image>"},
        chat_template=CHAT_TEMPLATE,
        padding_side="left",
    )


def _processor(arch: str, tokenizer: Any) -> Any:
    if arch == "llava":
        from transformers import CLIPImageProcessorPil, LlavaProcessor

        images = CLIPImageProcessorPil(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
        return LlavaProcessor(
            image_processor=images,
            tokenizer=tokenizer,
            patch_size=14,
            vision_feature_select_strategy="default",
            num_additional_image_tokens=1,  # the CLS position; without it generate fails
            chat_template=CHAT_TEMPLATE,
        )
    from transformers import Idefics3ImageProcessorPil, Idefics3Processor

    idefics_images = Idefics3ImageProcessorPil(
        size={"longest_edge": 32}, max_image_size={"longest_edge": 32}, do_image_splitting=False
    )
    return Idefics3Processor(image_processor=idefics_images, tokenizer=tokenizer, image_seq_len=4, chat_template=CHAT_TEMPLATE)


def _config(arch: str, tokenizer: Any) -> Any:
    from transformers import LlamaConfig

    text = LlamaConfig(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=len(tokenizer),
        max_position_embeddings=1024,
        initializer_range=_INIT,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    image_token_id = tokenizer.convert_tokens_to_ids("<image>")
    vision_args: dict[str, Any] = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=2, initializer_range=_INIT)
    if arch == "llava":
        from transformers import CLIPVisionConfig, LlavaConfig

        llava: dict[str, Any] = {"image_token_id": image_token_id, "initializer_range": _INIT}  # kwargs the stubs omit
        return LlavaConfig(
            vision_config=CLIPVisionConfig(image_size=28, patch_size=14, projection_dim=32, **vision_args),
            text_config=text,
            vision_feature_select_strategy="default",
            vision_feature_layer=-1,
            **llava,
        )
    from transformers import Idefics3Config, Idefics3VisionConfig

    idefics: dict[str, Any] = {"initializer_range": _INIT, "pad_token_id": tokenizer.pad_token_id}
    return Idefics3Config(
        vision_config=Idefics3VisionConfig(image_size=32, patch_size=8, **vision_args),  # 16 patches / 2² = 4 tokens
        text_config=text,
        image_token_id=image_token_id,
        scale_factor=2,
        **idefics,
    )


def _model_class(arch: str) -> Any:
    if arch == "llava":
        from transformers import LlavaForConditionalGeneration

        return LlavaForConditionalGeneration
    from transformers import Idefics3ForConditionalGeneration

    return Idefics3ForConditionalGeneration
