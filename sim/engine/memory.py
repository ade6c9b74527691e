"""Memory hints and vector spans for the kernels' loops (performance devices, no model
logic)."""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

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


LANES = 16  # elements one add_lanes call covers (16 int32: one 64-byte vector)


@intrinsic
def add_lanes(typingctx, arr, start, m, delta):
    """Add ``delta`` to ``arr[start:start + m]`` (``0 <= m <= LANES``) with one vector
    load, add and store of the ``LANES`` elements from ``arr[start]``, the ``LANES - m``
    past the span getting 0: so ``arr[start + LANES - 1]`` must lie inside the array (the
    caller checks). Integer arrays only, contiguous.

    Why: the vision fields are updated by short runs of cells (13 for a radius-6 Moore
    window): a scalar loop costs a load, add and store per cell, and numba's negative-index
    handling keeps LLVM from vectorising it. Adding 0 to a neighbour rewrites the value it
    holds: the same integers, in any order (integer addition is exact)."""
    if not (isinstance(arr, types.Array) and isinstance(arr.dtype, types.Integer)
            and arr.layout == "C"):
        return None
    sig = types.void(arr, start, m, delta)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        elt = context.get_data_type(aryty.dtype)
        vec = ir.VectorType(elt, LANES)
        i32 = ir.IntType(32)
        vec32 = ir.VectorType(i32, LANES)
        splat_mask = ir.Constant(vec32, [0] * LANES)

        def splat(value, vty):
            undef = ir.Constant(vty, ir.Undefined)
            return builder.shuffle_vector(builder.insert_element(undef, value, i32(0)), undef,
                                          splat_mask)

        count = context.cast(builder, args[2], signature.args[2], types.int32)
        step = context.cast(builder, args[3], signature.args[3], aryty.dtype)
        inside = builder.icmp_signed("<", ir.Constant(vec32, list(range(LANES))),
                                     splat(count, vec32))
        inc = builder.select(inside, splat(step, vec), ir.Constant(vec, [0] * LANES))
        vptr = builder.bitcast(ptr, vec.as_pointer())
        align = elt.width // 8
        builder.store(builder.add(builder.load(vptr, align=align), inc), vptr, align=align)
        return context.get_dummy_value()

    return sig, codegen


@njit(inline="always", cache=True)
def add_span(arr, start, n, delta):
    """``arr[start:start + n] += delta`` on a flat integer array, ``LANES`` elements at a
    time (:func:`add_lanes`), element by element at the very end of the array."""
    size = arr.size
    i = 0
    while i < n:
        if start + i + LANES <= size:
            add_lanes(arr, start + i, min(n - i, LANES), delta)
        else:
            for c in range(start + i, start + min(n, i + LANES)):
                arr[c] += delta
        i += LANES


MARK_LANES = 16  # cells one mask_lanes call tests (16 int8: one 16-byte vector)


@intrinsic
def mask_lanes(typingctx, arr, start, m):
    """Bit ``i`` set for each ``i < m`` (``0 <= m <= MARK_LANES``) where
    ``arr[start + i] != 0``, from one vector load and compare of the :data:`MARK_LANES`
    elements from ``arr[start]``: so ``arr[start + MARK_LANES - 1]`` must lie inside the array
    (the caller checks). int8 arrays only, contiguous.

    Why: a scan for the flagged cells of a window (:func:`sim.engine.grid.random_marked_cell`)
    tests a column run of a window in one step and then visits only its flagged cells."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int8 and arr.layout == "C"):
        return None
    sig = types.int64(arr, start, m)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i8 = ir.IntType(8)
        i64 = ir.IntType(64)
        vec = ir.VectorType(i8, MARK_LANES)
        values = builder.load(builder.bitcast(ptr, vec.as_pointer()), align=1)
        flags = builder.icmp_unsigned("!=", values, ir.Constant(vec, [0] * MARK_LANES))
        bits = builder.zext(builder.bitcast(flags, ir.IntType(MARK_LANES)), i64)
        count = context.cast(builder, args[2], signature.args[2], types.int64)
        low = builder.sub(builder.shl(ir.Constant(i64, 1), count), ir.Constant(i64, 1))
        return builder.and_(bits, low)

    return sig, codegen


@intrinsic
def stack_array(typingctx, size):
    """A float64 array of ``size`` elements (a constant) on the calling kernel's stack, its
    values undefined: scratch memory for one call of a kernel compiled without reference
    counting, which may not allocate (it goes when the kernel returns)."""
    if not isinstance(size, types.IntegerLiteral):
        return None
    n = size.literal_value
    arrty = types.Array(types.float64, 1, "C")
    sig = arrty(size)

    def codegen(context, builder, signature, args):
        elt = context.get_data_type(types.float64)
        data = cgutils.alloca_once(builder, elt, size=n)  # in the entry block: once a call
        ary = context.make_array(arrty)(context, builder)
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(elt))
        populate_array(ary, data=data, shape=[context.get_constant(types.intp, n)],
                       strides=[itemsize], itemsize=itemsize, meminfo=None)
        return ary._getvalue()

    return sig, codegen
