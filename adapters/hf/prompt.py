"""Chat prompts for transformers processors, shared by generation and the gradient model.

Both must build the very same prompt for a probe, or the image PGD optimised against one prompt
would be judged on another; keeping it here is also what lets them not import each other.
"""

from __future__ import annotations

from typing import Any


def build_prompt(processor: Any, text: str, n_images: int, system: str | None = None) -> str:
    """The prompt string: the processor's (or tokenizer's) chat template, else plain text.

    Templates that reject a system turn get the system text in front of the user's text.
    """
    tokenizer = getattr(processor, "tokenizer", processor)
    image_token = getattr(processor, "image_token", None) or "<image>"
    if processor is not tokenizer and getattr(processor, "chat_template", None):
        owner, parts = processor, [{"type": "image"}] * n_images
    elif getattr(tokenizer, "chat_template", None):
        owner, parts = tokenizer, None  # text-only templates expect string content
    else:
        head = f"{system}\n\n" if system else ""
        return image_token * n_images + head + text

    def content(body: str) -> Any:
        if parts is None:
            return image_token * n_images + body
        return [*parts, {"type": "text", "text": body}]

    messages = [{"role": "user", "content": content(text)}]
    if system:
        system_turn = {"role": "system", "content": system if parts is None else [{"type": "text", "text": system}]}
        try:
            return owner.apply_chat_template([system_turn, *messages], add_generation_prompt=True, tokenize=False)
        except Exception:
            messages = [{"role": "user", "content": content(f"{system}\n\n{text}")}]
    return owner.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
