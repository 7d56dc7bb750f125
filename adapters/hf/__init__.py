"""The transformers backend.

- `adapter`: the `hf` plugin, its batching and out-of-memory fallback;
- `loading`: options, device and dtype, safe weights, the hub download check;
- `generation`: one batch of probes through the model;
- `prompt`: chat templates, shared by generation and the gradient model;
- `gradients`: target-text loss and pixel gradients for white-box attacks.
"""
