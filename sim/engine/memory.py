"""Memory hints for the kernels' loops (performance devices, no model logic)."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# how many agents ahead the loops fetch (the random-order core loop, the slot-order passes)
PF_ROW, PF_CELL = 8, 4
AHEAD = 4


@intrinsic
def prefetch(typingctx, arr, idx):
    """Ask the CPU to start loading the cache line of ``arr[idx]`` (``llvm.prefetch``).

    A hint only (no effect on any value): on large grids the random-order loop would
    otherwise wait on memory for the next agent's row and cell fields."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
