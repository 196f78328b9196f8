"""Which number format a transformer runs in on this CPU.

fp32   plain float32: exact, slowest
bf16   bfloat16 autocast: matrix products in bf16, weights and reductions in float32.
       Several times faster where the CPU has bf16 instructions (AMX, AVX512-BF16);
       slower than fp32 where it has not.
int8   dynamic int8 quantisation of the linear layers: faster on most CPUs, and it moves
       probabilities a little more than bf16 does
auto   bf16 where the CPU runs it natively, else fp32
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Literal

import torch
from torch import nn

logger = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16", "int8"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "int8")


def native_bf16() -> bool:
    """True where oneDNN runs bf16 matrix products in hardware (AMX or AVX512-BF16)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        return False


def resolve(precision: str) -> str:
    """`auto` made concrete for this machine; any other name checked and returned."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bf16" if native_bf16() else "fp32"
    if precision == "bf16" and not native_bf16():
        logger.warning("this CPU has no native bf16: bf16 will be slower than fp32")
    return precision


def autocast(precision: str) -> contextlib.AbstractContextManager[None]:
    """The context a forward (or training) pass runs in for this precision."""
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def quantized(model: nn.Module) -> nn.Module:
    """`model` with its nn.Linear layers swapped for dynamic int8 ones."""
    with _quiet():
        return torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield
