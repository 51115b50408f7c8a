package org.xpiler.core.vm;

import java.util.Arrays;
import java.util.List;

/**
 * One allocation of the virtual device: a buffer, an array, an on-chip declaration. Bytes are little-endian;
 * {@code initialized} (null when every byte is) tracks which bytes hold defined values (written, and not computed
 * from garbage by an element-wise intrinsic), so reading garbage is an error rather than a silent wrong answer.
 */
public final class Region {
	final int id;
	final String name;
	final Space space;
	final int baseAlignment;
	byte[] data;
	int length;
	boolean[] initialized;
	/** How many bytes are not initialized yet. */
	int missing;
	boolean freed;
	/** Grows on access up to {@code growLimit} bytes, materializing bytes with {@code filler} (entry arguments). */
	Filler filler;
	int growLimit;
	/** The highest byte offset accessed plus one, and whether anything wrote. */
	int extent;
	boolean written;
	/** Whether the run read the region before its first write: an input (or in-out) buffer. */
	boolean readBeforeWrite;
	/**
	 * The length when every access needs only a bounds check (fully initialized, not growable, not freed, no
	 * pending asynchronous copy), else -1 so that the bounds check of the fast path sends every access down the
	 * checked path.
	 */
	int fastLimit;
	/** What the pending {@code __memcpy_async} copies write or read here (see {@link AsyncCopies}); null when none. */
	List<AsyncCopies.Footprint> pendingCopies;
	/** Race-detection state of the current launch, created on the first shared access. */
	Shadow shadow;

	/** Produces the initial bytes of a growable region as it grows, deterministically per element. */
	public interface Filler {
		void fill(byte[] data, int from, int to);
	}

	Region(int id, String name, Space space, int bytes, int baseAlignment, boolean initialized) {
		this.id = id;
		this.name = name;
		this.space = space;
		this.data = new byte[bytes];
		this.length = bytes;
		this.baseAlignment = baseAlignment;
		this.initialized = initialized || bytes == 0 ? null : new boolean[bytes];
		this.missing = initialized ? 0 : bytes;
		refreshFastLimit();
	}

	public String name() {
		return name;
	}

	public Space space() {
		return space;
	}

	public int length() {
		return length;
	}

	public int extent() {
		return extent;
	}

	public boolean written() {
		return written;
	}

	public byte[] contents() {
		return Arrays.copyOf(data, length);
	}

	/** Which bytes hold defined values (a copy), or null when all do. */
	public boolean[] initializedBytes() {
		return initialized == null ? null : Arrays.copyOf(initialized, length);
	}

	void refreshFastLimit() {
		fastLimit = initialized == null && filler == null && !freed && pendingCopies == null ? length : -1;
	}

	/** Marks {@code [from, to)} as holding no defined value (garbage a vector lane computed from garbage). */
	void uninitialize(int from, int to) {
		if (initialized == null) {
			initialized = new boolean[length];
			Arrays.fill(initialized, true);
		}
		for (int i = from; i < to; i++) {
			if (initialized[i]) {
				initialized[i] = false;
				missing++;
			}
		}
		refreshFastLimit();
	}

	/** Makes room for offset {@code end} in a growable region; false when the region cannot grow that far. */
	boolean grow(int end) {
		if (filler == null || end > growLimit) {
			return false;
		}
		int newLength = Math.max(end, Math.min(growLimit, Math.max(64, length * 2)));
		newLength = (newLength + 63) & ~63;
		newLength = Math.min(newLength, growLimit);
		data = Arrays.copyOf(data, newLength);
		filler.fill(data, length, newLength);
		length = newLength;
		return true;
	}

	/** Per-byte record of the last writer and reader of the current launch. */
	static final class Shadow {
		int launch;
		final int[] writer;
		final int[] writerPhase;
		final int[] writerSite;
		final int[] reader;
		final int[] readerPhase;
		final int[] readerSite;

		Shadow(int bytes) {
			writer = new int[bytes];
			writerPhase = new int[bytes];
			writerSite = new int[bytes];
			reader = new int[bytes];
			readerPhase = new int[bytes];
			readerSite = new int[bytes];
		}

		void clear(int newLaunch) {
			launch = newLaunch;
			Arrays.fill(writer, 0);
			Arrays.fill(reader, 0);
		}
	}
}
