package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.List;

/**
 * Records every write of a run (region, offset, value bits, source location, lane): what bug localization
 * reads to find the first statement whose writes differ from the reference's. Bounded so a large run cannot
 * exhaust memory; {@link #truncated()} says when the bound was hit.
 */
public final class WriteTrace implements MemoryObserver {
	/** One write: {@code who} is empty for host code. */
	public record Write(String region, int offset, int bytes, long bits, Site site, String who) {
	}

	private final Program program;
	private final int limit;
	private final List<Write> writes = new ArrayList<>();
	private final MemoryObserver next;
	private boolean truncated;

	WriteTrace(Program program, int limit, MemoryObserver next) {
		this.program = program;
		this.limit = limit;
		this.next = next;
	}

	@Override
	public void read(Region region, int offset, int bytes, Lane lane, int site) {
		if (next != null) {
			next.read(region, offset, bytes, lane, site);
		}
	}

	@Override
	public void write(Region region, int offset, int bytes, long bits, Lane lane, int site) {
		if (next != null) {
			next.write(region, offset, bytes, bits, lane, site);
		}
		if (writes.size() < limit) {
			writes.add(new Write(region.name, offset, bytes, bits, program.site(site), lane == null ? "" : lane.describe()));
		} else {
			truncated = true;
		}
	}

	public List<Write> writes() {
		return writes;
	}

	public boolean truncated() {
		return truncated;
	}
}
