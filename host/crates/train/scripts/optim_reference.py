"""Reference numbers for vapr-train's AdamW test (src/optim.rs): torch.optim.AdamW with its
defaults, HF Trainer's grouping (no decay on biases), global-norm clipping at 1.0."""
import torch

w = torch.nn.Parameter(torch.tensor([[0.5, -1.0], [2.0, 0.25]]))
b = torch.nn.Parameter(torch.tensor([0.1, -0.2]))
opt = torch.optim.AdamW([{"params": [w]}, {"params": [b], "weight_decay": 0.0}], lr=0.01)
x = torch.tensor([[1.0, 2.0], [-0.5, 0.3]])
for step in range(3):
    opt.zero_grad()
    ((x @ w + b) ** 2).sum().backward()
    norm = torch.nn.utils.clip_grad_norm_([w, b], 1.0)
    if step == 0:
        print(f"const TORCH_FIRST_NORM: f64 = {norm.item():.10e};")
    opt.step()
vals = w.detach().flatten().tolist() + b.detach().tolist()
print("const TORCH_AFTER_3: [f64; 6] = [" + ", ".join(f"{v:.10e}" for v in vals) + "];")
