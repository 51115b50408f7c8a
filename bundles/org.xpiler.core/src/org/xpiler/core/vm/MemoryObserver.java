package org.xpiler.core.vm;

/**
 * Sees every access of a run: the race detector, and the write tracer that bug localization builds on.
 * {@code lane} is the thread or task that accessed (null in host code), {@code site} indexes
 * {@link Program#site(int)}.
 */
public interface MemoryObserver {

	default void read(Region region, int offset, int bytes, Lane lane, int site) {
	}

	/** {@code bits} is the stored value's bit pattern (the element's bytes, little-endian, in a long). */
	default void write(Region region, int offset, int bytes, long bits, Lane lane, int site) {
	}
}
