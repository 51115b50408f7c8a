package org.xpiler.core.vm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The address space of one run. An address is a {@code long}: the region id in the high 32 bits and the byte
 * offset, biased by 2^31, in the low 32 bits, so pointer arithmetic that steps before a region stays in it and
 * is reported as out of bounds of that region. Id 0 is the null pointer. Every access is checked: null,
 * freed, out of bounds, uninitialized, racing with a pending asynchronous copy; accesses with nothing to check
 * take a fast path. While a lane of an element-wise intrinsic runs ({@link #beginLane}), reading uninitialized
 * bytes does not fault but makes what the lane writes uninitialized.
 */
public final class Memory {
	static final long BIAS = 1L << 31;
	private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
	private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
	private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
	private static final VarHandle F32 = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
	private static final VarHandle F64 = MethodHandles.byteArrayViewVarHandle(double[].class, ByteOrder.LITTLE_ENDIAN);

	private final Program program;
	private Region[] regions = new Region[64];
	private int next = 1;
	private final ArrayDeque<Integer> freeIds = new ArrayDeque<>();
	private MemoryObserver observer;
	/** The thread or task running now (one runs at a time), for observers and messages. */
	Lane lane;
	/** The lane of an element-wise intrinsic running now, or null (see {@link LaneWiseLoop}). */
	private VectorLane vectorLane;
	private final VectorLane reusedLane = new VectorLane();

	Memory(Program program) {
		this.program = program;
	}

	public static long address(int regionId, int offset) {
		return ((long) regionId << 32) + BIAS + offset;
	}

	public static int offsetOf(long address) {
		return (int) address ^ Integer.MIN_VALUE;
	}

	static int regionIdOf(long address) {
		return (int) (address >>> 32);
	}

	public void observe(MemoryObserver newObserver) {
		observer = newObserver;
	}

	public MemoryObserver observer() {
		return observer;
	}

	public long allocate(String name, Space space, int bytes, int baseAlignment, boolean initialized) {
		int id = freeIds.isEmpty() ? next++ : freeIds.pop();
		if (id >= regions.length) {
			regions = Arrays.copyOf(regions, regions.length * 2);
		}
		regions[id] = new Region(id, name, space, bytes, baseAlignment, initialized);
		return address(id, 0);
	}

	/** A region for an entry argument whose size is not known: it grows as the kernel reaches further. */
	public long allocateGrowable(String name, Space space, int limit, Region.Filler filler) {
		long address = allocate(name, space, 0, 64, true);
		Region region = region(address);
		region.filler = filler;
		region.growLimit = limit;
		region.refreshFastLimit();
		return address;
	}

	/** The region an address points into, or null. */
	public Region region(long address) {
		int id = regionIdOf(address);
		return id > 0 && id < next ? regions[id] : null;
	}

	/** Releases a region; its id may be reused, so only recent dangling pointers are caught. */
	public void free(long address, int site) {
		Region region = region(address);
		if (region == null || region.freed || offsetOf(address) != 0) {
			throw fault(site, address == 0 ? "free of a null pointer" : "free of a pointer that is not the start of an allocation");
		}
		release(region);
	}

	void release(Region region) {
		region.freed = true;
		region.data = new byte[0];
		region.length = 0;
		region.initialized = null;
		region.refreshFastLimit();
		regions[region.id] = null;
		freeIds.push(region.id);
	}

	/**
	 * The region of an access that needs nothing but a bounds check (no observer, region fully initialized,
	 * not growable), or null when the access must take the checked path.
	 */
	private Region fast(long address, int bytes) {
		int id = regionIdOf(address);
		Region[] all = regions;
		Region r = id < all.length ? all[id] : null;
		return unchecked(r, address, bytes) ? r : null;
	}

	/**
	 * Whether an access of {@code bytes} at {@code address} lies in region {@code r} and needs nothing but that
	 * bound: the one condition of every fast path, also used by load sites that remember their last region.
	 */
	boolean unchecked(Region r, long address, int bytes) {
		int offset = offsetOf(address);
		return r != null && observer == null && r.id == regionIdOf(address) && offset >= 0
				&& offset <= r.fastLimit - bytes;
	}

	private Region access(long address, int bytes, int site) {
		Region r = fast(address, bytes);
		return r != null ? r : slowRead(address, bytes, site);
	}

	private Region locate(long address, int bytes, int site) {
		if (address == 0) {
			throw fault(site, "null pointer dereference");
		}
		Region r = region(address);
		if (r == null) {
			throw fault(site, "access through a pointer to memory that was freed or never allocated");
		}
		int offset = offsetOf(address);
		if (offset < 0 || offset > r.length - bytes) {
			if (offset < 0 || !r.grow(offset + bytes)) {
				throw fault(site, "out-of-bounds access: byte offset " + offset + " (" + bytes + " bytes) of '" + r.name
						+ "', which has " + r.length + " bytes");
			}
		}
		if (offset + bytes > r.extent) {
			r.extent = offset + bytes;
		}
		return r;
	}

	private Region slowRead(long address, int bytes, int site) {
		return slowRead(address, bytes, null, site);
	}

	private Region slowRead(long address, int bytes, boolean[] valueBytes, int site) {
		Region r = locate(address, bytes, site);
		int offset = offsetOf(address);
		r.readBeforeWrite |= !r.written;
		if (r.pendingCopies != null) {
			AsyncCopies.checkRead(this, r, offset, bytes, site); // first: it says why the bytes are not there yet
		}
		if (r.initialized != null) {
			for (int i = offset; i < offset + bytes; i++) {
				if (valueBytes != null && !valueBytes[i - offset]) {
					continue;
				}
				if (!r.initialized[i] && vectorLane != null) {
					vectorLane.readUndefined(r, i); // garbage in, garbage out: decided when the lane ends
					break;
				} else if (!r.initialized[i]) {
					throw fault(site, "read of uninitialized memory: byte offset " + i + " of '" + r.name + "'"
							+ (lane != null && r.space.shared() ? " (no lane has written it yet: a missing barrier?)" : ""));
				}
			}
		}
		if (observer != null) {
			observer.read(r, offset, bytes, lane, site);
		}
		return r;
	}

	private Region write(long address, int bytes, int site, long bits) {
		Region fast = fast(address, bytes);
		if (fast != null) {
			fast.written = true;
			if (vectorLane != null) {
				vectorLane.wrote(fast, offsetOf(address), bytes, site);
			}
			return fast;
		}
		Region r = locate(address, bytes, site);
		int offset = offsetOf(address);
		if (vectorLane != null) {
			vectorLane.wrote(r, offset, bytes, site);
		}
		if (r.pendingCopies != null) {
			AsyncCopies.checkWrite(this, r, offset, bytes, site);
		}
		r.written = true;
		if (r.initialized != null) {
			for (int i = offset; i < offset + bytes; i++) {
				if (!r.initialized[i]) {
					r.initialized[i] = true;
					r.missing--;
				}
			}
			if (r.missing == 0) {
				r.initialized = null;
				r.refreshFastLimit();
			}
		}
		if (observer != null) {
			observer.write(r, offset, bytes, bits, lane, site);
		}
		return r;
	}

	/**
	 * Starts one lane (one iteration of the reference loop) of an element-wise intrinsic: until {@link #endLane},
	 * a read of an uninitialized byte does not fault but makes every byte the lane writes uninitialized, as a
	 * vector unit computes garbage from garbage. Garbage may stay in on-chip and local memory only.
	 */
	void beginLane() {
		vectorLane = reusedLane;
		vectorLane.clear();
	}

	/**
	 * Ends the lane begun last: when it read an uninitialized byte, what it wrote becomes uninitialized, and it
	 * is an error at the write when that is memory outside the core (GDRAM, global or host memory).
	 */
	void endLane() {
		VectorLane ended = vectorLane;
		vectorLane = null;
		if (ended.undefinedRegion == null) {
			return;
		}
		for (int w = 0; w < ended.writes; w++) {
			Region target = ended.targets[w];
			int offset = ended.offsets[w];
			if (!holdsGarbage(target.space)) {
				throw fault(ended.sites[w], "read of uninitialized memory: byte offset " + ended.undefinedOffset + " of '"
						+ ended.undefinedRegion.name + "' would be stored to byte offset " + offset + " of '"
						+ target.name + "' (" + target.space.catalogName().toUpperCase() + ")");
			}
			target.uninitialize(offset, offset + ended.sizes[w]);
		}
	}

	/** Leaves the lane after {@link #endLane} or a fault in it. */
	void leaveLane() {
		vectorLane = null;
	}

	/** Memory private to a core, thread or function, where garbage lanes are harmless until they are read. */
	private static boolean holdsGarbage(Space space) {
		return switch (space) {
		case NRAM, WRAM, SRAM, LDRAM, SHARED, LOCAL -> true;
		case HOST, GLOBAL, CONSTANT, GDRAM -> false;
		};
	}

	/** What the running lane of an element-wise intrinsic wrote, and the first uninitialized byte it read. */
	private static final class VectorLane {
		Region undefinedRegion;
		int undefinedOffset;
		Region[] targets = new Region[4];
		int[] offsets = new int[4];
		int[] sizes = new int[4];
		int[] sites = new int[4];
		int writes;

		void clear() {
			undefinedRegion = null;
			writes = 0;
		}

		void readUndefined(Region region, int offset) {
			if (undefinedRegion == null) {
				undefinedRegion = region;
				undefinedOffset = offset;
			}
		}

		void wrote(Region target, int offset, int bytes, int site) {
			if (writes == targets.length) {
				targets = Arrays.copyOf(targets, writes * 2);
				offsets = Arrays.copyOf(offsets, writes * 2);
				sizes = Arrays.copyOf(sizes, writes * 2);
				sites = Arrays.copyOf(sites, writes * 2);
			}
			targets[writes] = target;
			offsets[writes] = offset;
			sizes[writes] = bytes;
			sites[writes++] = site;
		}
	}

	VmError fault(int site, String message) {
		return new VmError(program.site(site), lane == null ? "" : lane.describe(), message);
	}

	// ---------------------------------------------------------------- typed access

	public long load(ElementType type, long address, int site) {
		Region r = access(address, type.bytes(), site);
		int o = offsetOf(address);
		byte[] d = r.data;
		return switch (type) {
		case BOOL -> d[o] != 0 ? 1 : 0;
		case I8 -> d[o];
		case U8 -> d[o] & 0xFF;
		case I16 -> (short) I16.get(d, o);
		case U16, F16, BF16 -> (short) I16.get(d, o) & 0xFFFF;
		case I32 -> (int) I32.get(d, o);
		case U32 -> (int) I32.get(d, o) & 0xFFFFFFFFL;
		case I64, U64 -> (long) I64.get(d, o);
		case F32 -> Float.floatToRawIntBits((float) F32.get(d, o)) & 0xFFFFFFFFL;
		case F64 -> Double.doubleToRawLongBits((double) F64.get(d, o));
		};
	}

	public double loadFloating(ElementType type, long address, int site) {
		Region r = access(address, type.bytes(), site);
		int o = offsetOf(address);
		return switch (type) {
		case F32 -> (float) F32.get(r.data, o);
		case F64 -> (double) F64.get(r.data, o);
		case F16 -> Half.halfBitsToDouble((short) I16.get(r.data, o));
		case BF16 -> Half.bfloat16BitsToDouble((short) I16.get(r.data, o));
		default -> throw new IllegalArgumentException(type.name());
		};
	}

	public float loadF32(long address, int site) {
		Region r = access(address, 4, site);
		return (float) F32.get(r.data, offsetOf(address));
	}

	public int loadI32(long address, int site) {
		Region r = access(address, 4, site);
		return (int) I32.get(r.data, offsetOf(address));
	}

	/** Stores the low bytes of {@code bits} (an integer value or a float's bit pattern). */
	public void store(ElementType type, long address, long bits, int site) {
		Region r = write(address, type.bytes(), site, bits);
		int o = offsetOf(address);
		byte[] d = r.data;
		switch (type.bytes()) {
		case 1 -> d[o] = (byte) (type == ElementType.BOOL ? (bits != 0 ? 1 : 0) : bits);
		case 2 -> I16.set(d, o, (short) bits);
		case 4 -> I32.set(d, o, (int) bits);
		default -> I64.set(d, o, bits);
		}
	}

	public void storeFloating(ElementType type, long address, double value, int site) {
		switch (type) {
		case F32 -> {
			float f = (float) value;
			Region r = write(address, 4, site, Float.floatToRawIntBits(f));
			F32.set(r.data, offsetOf(address), f);
		}
		case F64 -> {
			Region r = write(address, 8, site, Double.doubleToRawLongBits(value));
			F64.set(r.data, offsetOf(address), value);
		}
		case F16 -> store(ElementType.I16, address, Half.doubleToHalfBits(value), site);
		case BF16 -> store(ElementType.I16, address, Half.doubleToBfloat16Bits(value), site);
		default -> throw new IllegalArgumentException(type.name());
		}
	}

	public void storeF32(long address, float value, int site) {
		Region r = write(address, 4, site, Float.floatToRawIntBits(value));
		F32.set(r.data, offsetOf(address), value);
	}

	public void storeI32(long address, int value, int site) {
		Region r = write(address, 4, site, value);
		I32.set(r.data, offsetOf(address), value);
	}

	/** Copies {@code bytes} bytes, each access checked (bounds, initialization, races). */
	public void copy(long destination, long source, long bytes, int site) {
		if (bytes < 0) {
			throw fault(site, "negative copy size " + bytes);
		}
		for (long i = 0; i < bytes; i++) {
			store(ElementType.U8, destination + i, load(ElementType.U8, source + i, site), site);
		}
	}

	/** Reads a vector or struct value of {@code bytes} bytes. */
	public byte[] loadBytes(long address, int bytes, int site) {
		return loadBytes(address, bytes, null, site);
	}

	/**
	 * Reads a value of {@code bytes} bytes of which only those marked in {@code valueBytes} must hold values (a
	 * struct's padding need not; null: all must).
	 */
	public byte[] loadBytes(long address, int bytes, boolean[] valueBytes, int site) {
		if (bytes == 0) {
			return new byte[0];
		}
		Region r = fast(address, bytes);
		if (r == null) {
			r = slowRead(address, bytes, valueBytes, site);
		}
		return Arrays.copyOfRange(r.data, offsetOf(address), offsetOf(address) + bytes);
	}

	public void storeBytes(long address, byte[] value, int site) {
		if (value.length == 0) {
			return;
		}
		Region r = write(address, value.length, site, 0);
		System.arraycopy(value, 0, r.data, offsetOf(address), value.length);
	}

	/** Whether an address is a multiple of {@code alignment} given its region's base alignment. */
	public boolean aligned(long address, long alignment) {
		Region r = region(address);
		if (address == 0 || alignment <= 0) {
			return address == 0;
		}
		long offset = offsetOf(address);
		return r != null && offset % alignment == 0 && r.baseAlignment % alignment == 0;
	}

	/** The memory space of an address, or null for a null or dangling pointer. */
	public Space spaceOf(long address) {
		Region r = region(address);
		return r == null ? null : r.space;
	}
}
