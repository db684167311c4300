"""Reference numbers for vapr-train's loss tests (src/loss.rs), with TRL 1.16's formulas.

Run with the project's Python venv: `python host/crates/train/scripts/loss_reference.py`.
The printed constants are pasted into the tests; the tests never run Python.
"""
import torch
import torch.nn.functional as F

pc = torch.tensor([-12.5, -30.25, -7.0, -45.5], dtype=torch.float64, requires_grad=True)
pr = torch.tensor([-14.0, -29.0, -9.5, -44.0], dtype=torch.float64, requires_grad=True)
rc = torch.tensor([-13.0, -30.0, -8.0, -45.0], dtype=torch.float64)
rr = torch.tensor([-13.5, -30.5, -9.0, -45.25], dtype=torch.float64)
nc = torch.tensor([5.0, 12.0, 3.0, 20.0], dtype=torch.float64)
nr = torch.tensor([6.0, 11.0, 3.0, 21.0], dtype=torch.float64)


def terms(loss_type, beta, eps):
    cs, rs = pc - rc, pr - rr
    d = cs - rs
    if loss_type == "sigmoid":  # TRL ignores eps; cDPO form with eps > 0
        return -(1 - eps) * F.logsigmoid(beta * d) - eps * F.logsigmoid(-beta * d)
    if loss_type == "hinge":
        return torch.relu(1 - beta * d)
    if loss_type == "ipo":
        ipo = cs / nc.clamp(min=1.0) - rs / nr.clamp(min=1.0)
        return (ipo - 1 / (2 * beta)) ** 2
    if loss_type == "robust":
        clean = -(1 - eps) * F.logsigmoid(beta * d)
        flipped = -eps * F.logsigmoid(-beta * d)
        return (clean - flipped) / (1 - 2 * eps)
    raise ValueError(loss_type)


def sft():
    return -pc.sum() / nc.sum()  # token mean over the chosen completions


def show(name, value):
    print(f"pub(crate) const {name}: f64 = {value.item():.12e};")


show("REF_SIGMOID", terms("sigmoid", 0.1, 0.0).mean())
show("REF_SIGMOID_CDPO", terms("sigmoid", 0.5, 0.1).mean())
show("REF_IPO", terms("ipo", 0.1, 0.0).mean())
show("REF_HINGE", terms("hinge", 0.5, 0.0).mean())
show("REF_ROBUST", terms("robust", 0.1, 0.2).mean())
show("REF_COMBINED", terms("sigmoid", 0.1, 0.0).mean() + 0.5 * terms("hinge", 0.1, 0.0).mean() + 0.25 * sft())
loss = terms("sigmoid", 0.1, 0.0).mean()
loss.backward()
print("pub(crate) const REF_SIGMOID_GRAD_CHOSEN: [f64; 4] = [" + ", ".join(f"{g:.12e}" for g in pc.grad.tolist()) + "];")
