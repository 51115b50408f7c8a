package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The DMA queue of one BANG task: the copies its {@code __memcpy_async} calls issued that no sync has completed
 * yet. The semantics follow the catalog entries of {@code __memcpy_async} and {@code __sync*} and the BANG facts
 * (sections 1.7 and 3.6):
 * <ul>
 * <li>At the call the form's space and rule checks and its reference body run as for {@code __memcpy}, so every
 * error (a broken rule, a segment out of bounds, an uninitialized source) is reported at the call. The body
 * reads the source then, but writes into a scratch mirror of the destination's region; the bytes it wrote are
 * queued and the destination keeps its old contents.</li>
 * <li>{@code __sync}, {@code __sync_io}, {@code __sync_compute}, {@code __sync_move} and
 * {@code __sync_io_move_compute} land the task's queued copies in issue order. The model does not tell the core's
 * pipelines apart, so any of them completes every copy.</li>
 * <li>{@code __sync_cluster} and {@code __sync_all} land the arriving task's copies before it waits: the catalog
 * says so, on hardware they are a plain {@code sync} in a BLOCK task, and only so are the writes made before the
 * barrier visible after it, as the catalog promises.</li>
 * <li>The kernel's end lands what is still queued: the device drains a core's queues before the kernel counts as
 * finished, so a prefetch that nobody waits for (past the last tile of a pipeline) is harmless.</li>
 * <li>Until a copy lands, reading or writing its destination bytes, or writing its source bytes, is an error
 * naming both lines: the DMA may not have written (or read) them yet. Only the bytes the copy touches count, so
 * the other half of a double buffer stays usable. Reading the source at the call instead of when the copy lands
 * is therefore equivalent. The regions a pending copy touches leave {@link Memory}'s fast path until it lands, so
 * accesses elsewhere cost nothing.</li>
 * </ul>
 */
final class AsyncCopies {
	/** The intrinsic whose copies are deferred. */
	static final String FUNCTION = "__memcpy_async";

	private final List<Pending> queue = new ArrayList<>();

	/** A copy in flight: the bytes it will store into {@code destination}, and what guards its bytes until then. */
	private record Pending(int site, Region destination, ByteLog bytes, List<Footprint> footprints) {
	}

	/**
	 * The bytes of {@code region} that the pending copy issued at {@code copy} writes (its destination) or read (its
	 * source), as sorted disjoint ranges {@code [starts[i], ends[i])}.
	 */
	record Footprint(Region region, boolean destination, int[] starts, int[] ends, Site copy) {

		/** The first byte of {@code [from, to)} in the footprint, or -1. */
		int firstOverlap(int from, int to) {
			int low = 0;
			int high = starts.length - 1;
			int last = -1; // the last range starting before to: the only one that can reach from
			while (low <= high) {
				int middle = (low + high) >>> 1;
				if (starts[middle] < to) {
					last = middle;
					low = middle + 1;
				} else {
					high = middle - 1;
				}
			}
			if (last < 0 || ends[last] <= from) {
				return -1;
			}
			int first = last;
			while (first > 0 && ends[first - 1] > from) {
				first--;
			}
			return Math.max(from, starts[first]);
		}
	}

	/**
	 * The body of a {@code __memcpy_async} form: runs the reference {@code copy} with the destination parameter
	 * (register {@code destinationSlot}) pointing into a scratch mirror of its region, and queues what it wrote on
	 * the calling task. {@code site} is the call.
	 */
	static Stmt deferred(Stmt copy, int destinationSlot, int sourceSlot, int site, Site where) {
		return f -> {
			Memory memory = f.memory;
			long destination = f.l[destinationSlot];
			Region target = memory.region(destination);
			if (target == null) {
				return copy.exec(f); // a null or dangling destination faults as it does for __memcpy
			}
			Region scratch = mirror(memory, target);
			f.l[destinationSlot] = Memory.address(scratch.id, Memory.offsetOf(destination));
			Recorder recorder = new Recorder(scratch, memory.region(f.l[sourceSlot]), memory.observer());
			memory.observe(recorder);
			int result;
			try {
				result = copy.exec(f);
			} finally {
				memory.observe(recorder.next);
				memory.release(scratch);
			}
			List<Footprint> footprints = new ArrayList<>(2);
			footprints.add(recorder.written.footprint(target, true, where));
			if (recorder.source != null && recorder.read.count > 0) {
				footprints.add(recorder.read.footprint(recorder.source, false, where));
			}
			Pending pending = new Pending(site, target, recorder.bytes, footprints);
			footprints.forEach(AsyncCopies::mark);
			if (f.lane.asyncCopies == null) {
				f.lane.asyncCopies = new AsyncCopies();
			}
			f.lane.asyncCopies.queue.add(pending);
			return result;
		};
	}

	/** A private region as long as {@code target} (or growing as far), so the body's bounds checks are the same. */
	private static Region mirror(Memory memory, Region target) {
		long address = target.filler != null
				? memory.allocateGrowable(target.name, Space.LOCAL, target.growLimit, (data, from, to) -> {
				})
				: memory.allocate(target.name, Space.LOCAL, target.length, target.baseAlignment, true);
		return memory.region(address);
	}

	/** Lands every copy {@code lane} has queued, in issue order: at a sync, a barrier, the kernel's end. */
	static void complete(Lane lane) {
		AsyncCopies copies = lane.asyncCopies;
		if (copies == null || copies.queue.isEmpty()) {
			return;
		}
		List<Pending> landing = List.copyOf(copies.queue);
		copies.queue.clear();
		// every footprint goes first: a later copy may write what an earlier one writes, in issue order
		landing.forEach(p -> p.footprints().forEach(AsyncCopies::unmark));
		Memory memory = lane.execution.memory;
		// a destination outlives its copies: no direction writes LOCAL memory, and statics outlive the task
		for (Pending p : landing) {
			ByteLog bytes = p.bytes();
			int id = p.destination().id;
			for (int i = 0; i < bytes.count; i++) {
				memory.store(ElementType.U8, Memory.address(id, bytes.offsets[i]), bytes.values[i], p.site());
			}
		}
	}

	private static void mark(Footprint footprint) {
		Region region = footprint.region();
		if (region.pendingCopies == null) {
			region.pendingCopies = new ArrayList<>(2);
		}
		region.pendingCopies.add(footprint);
		region.refreshFastLimit();
	}

	private static void unmark(Footprint footprint) {
		Region region = footprint.region();
		region.pendingCopies.remove(footprint);
		if (region.pendingCopies.isEmpty()) {
			region.pendingCopies = null;
		}
		region.refreshFastLimit();
	}

	/** A read of {@code [offset, offset + bytes)} of a region a pending copy touches: its destination is undefined. */
	static void checkRead(Memory memory, Region region, int offset, int bytes, int site) {
		for (Footprint footprint : region.pendingCopies) {
			int at = footprint.destination() ? footprint.firstOverlap(offset, offset + bytes) : -1;
			if (at >= 0) {
				throw memory.fault(site, "reads byte " + at + " of '" + region.name + "' before the " + FUNCTION
						+ " at " + shown(footprint.copy()) + " that writes it is synchronised: the destination of an "
						+ "asynchronous copy is defined only after the next __sync*() of its task (__sync_io() for "
						+ "GDRAM/LDRAM transfers)");
			}
		}
	}

	/** A write there: the copy may still write the byte (destination) or still read it (source). */
	static void checkWrite(Memory memory, Region region, int offset, int bytes, int site) {
		for (Footprint footprint : region.pendingCopies) {
			int at = footprint.firstOverlap(offset, offset + bytes);
			if (at >= 0) {
				String use = footprint.destination() ? " is still writing" : " may still be reading";
				throw memory.fault(site, "writes byte " + at + " of '" + region.name + "', which the " + FUNCTION
						+ " at " + shown(footprint.copy()) + use + ": wait for it with a __sync*() of this task first");
			}
		}
	}

	private static String shown(Site copy) {
		return copy.location() + " (" + copy.text() + ")";
	}

	/** Watches the reference body at the call: its writes into the scratch mirror and its reads of the source. */
	private static final class Recorder implements MemoryObserver {
		final Region scratch;
		final Region source;
		final MemoryObserver next;
		final ByteLog bytes = new ByteLog();
		final Ranges written = new Ranges();
		final Ranges read = new Ranges();

		Recorder(Region scratch, Region source, MemoryObserver next) {
			this.scratch = scratch;
			this.source = source;
			this.next = next;
		}

		@Override
		public void read(Region region, int offset, int count, Lane lane, int site) {
			if (region == source) {
				read.add(offset, offset + count);
			}
			if (next != null) {
				next.read(region, offset, count, lane, site);
			}
		}

		@Override
		public void write(Region region, int offset, int count, long bits, Lane lane, int site) {
			if (region != scratch) {
				if (next != null) {
					next.write(region, offset, count, bits, lane, site);
				}
				return;
			}
			for (int k = 0; k < count; k++) {
				bytes.add(offset + k, (byte) (bits >>> 8 * k));
			}
			written.add(offset, offset + count);
		}
	}

	/** The bytes a copy will store, in the order its body wrote them. */
	private static final class ByteLog {
		int[] offsets = new int[64];
		byte[] values = new byte[64];
		int count;

		void add(int offset, byte value) {
			if (count == offsets.length) {
				offsets = Arrays.copyOf(offsets, count * 2);
				values = Arrays.copyOf(values, count * 2);
			}
			offsets[count] = offset;
			values[count++] = value;
		}
	}

	/** Byte ranges as they are touched; consecutive ones merge, so a contiguous copy is one range. */
	private static final class Ranges {
		int[] starts = new int[8];
		int[] ends = new int[8];
		int count;

		void add(int start, int end) {
			if (count > 0 && start >= starts[count - 1] && start <= ends[count - 1]) {
				ends[count - 1] = Math.max(ends[count - 1], end);
				return;
			}
			if (count == starts.length) {
				starts = Arrays.copyOf(starts, count * 2);
				ends = Arrays.copyOf(ends, count * 2);
			}
			starts[count] = start;
			ends[count++] = end;
		}

		/** Sorted and disjoint (segments may come in any order and overlap). */
		Footprint footprint(Region region, boolean destination, Site copy) {
			Integer[] order = new Integer[count];
			for (int i = 0; i < count; i++) {
				order[i] = i;
			}
			Arrays.sort(order, (a, b) -> Integer.compare(starts[a], starts[b]));
			Ranges merged = new Ranges();
			for (int i : order) {
				merged.add(starts[i], ends[i]);
			}
			return new Footprint(region, destination, Arrays.copyOf(merged.starts, merged.count),
					Arrays.copyOf(merged.ends, merged.count), copy);
		}
	}
}
