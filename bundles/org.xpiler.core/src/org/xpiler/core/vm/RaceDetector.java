package org.xpiler.core.vm;

/**
 * Finds data races in one launch: two lanes touching the same byte of shared memory (global, GDRAM,
 * {@code __shared__}, SRAM) with no barrier between them, at least one writing. Lanes of one group (a block,
 * a cluster) are ordered by the barriers they pass together, lanes of one warp also by {@code __syncwarp};
 * lanes of different groups only by {@code __sync_all}. Reports both source locations. Atomics do not go through memory observers and so never
 * race with each other.
 */
final class RaceDetector implements MemoryObserver {
	private final Program program;
	private final int launch;
	private final int lanesPerGroup;

	RaceDetector(Program program, int launch, int lanesPerGroup) {
		this.program = program;
		this.launch = launch;
		this.lanesPerGroup = Math.max(1, lanesPerGroup);
	}

	private Region.Shadow shadow(Region region) {
		Region.Shadow shadow = region.shadow;
		if (shadow == null || shadow.writer.length < region.length) {
			shadow = new Region.Shadow(region.length);
			shadow.launch = launch;
			region.shadow = shadow;
		} else if (shadow.launch != launch) {
			shadow.clear(launch);
		}
		return shadow;
	}

	/**
	 * A lane's barrier count in the high half; in the low half a task's whole-launch barriers, or a thread's
	 * warp barriers (threads of different blocks never synchronize, so they need no launch count).
	 */
	private static int phases(Lane lane) {
		return lane.phase << 16 | (lane.kind == Lane.Kind.TASK ? lane.allPhase : lane.warpPhase) & 0xFFFF;
	}

	private boolean concurrent(int other, int otherPhases, Lane me) {
		if (other == me.launchIndex) {
			return false;
		}
		boolean sameGroup = other / lanesPerGroup == me.launchIndex / lanesPerGroup;
		if (me.kind == Lane.Kind.TASK) {
			return sameGroup ? otherPhases >>> 16 == me.phase : (otherPhases & 0xFFFF) == (me.allPhase & 0xFFFF);
		}
		if (!sameGroup) {
			return true;
		}
		boolean sameWarp = other % lanesPerGroup / me.warpSize == me.launchIndex % lanesPerGroup / me.warpSize;
		return otherPhases >>> 16 == me.phase && !(sameWarp && (otherPhases & 0xFFFF) != (me.warpPhase & 0xFFFF));
	}

	@Override
	public void read(Region region, int offset, int bytes, Lane lane, int site) {
		if (lane == null || lane.kind == Lane.Kind.HOST || !region.space.shared()) {
			return;
		}
		Region.Shadow s = shadow(region);
		int writer = s.writer[offset] - 1;
		if (writer >= 0 && concurrent(writer, s.writerPhase[offset], lane)) {
			throw race(region, offset, lane, "reads", site, "wrote", s.writerSite[offset], writer);
		}
		int reader = s.reader[offset] - 1;
		if (reader >= 0 && concurrent(reader, s.readerPhase[offset], lane)) {
			return; // keep another lane's concurrent read: a later write by any lane but that one races with it
		}
		s.reader[offset] = lane.launchIndex + 1;
		s.readerPhase[offset] = phases(lane);
		s.readerSite[offset] = site;
	}

	@Override
	public void write(Region region, int offset, int bytes, long bits, Lane lane, int site) {
		if (lane == null || lane.kind == Lane.Kind.HOST || !region.space.shared()) {
			return;
		}
		Region.Shadow s = shadow(region);
		int writer = s.writer[offset] - 1;
		if (writer >= 0 && concurrent(writer, s.writerPhase[offset], lane)) {
			throw race(region, offset, lane, "writes", site, "wrote", s.writerSite[offset], writer);
		}
		int reader = s.reader[offset] - 1;
		if (reader >= 0 && concurrent(reader, s.readerPhase[offset], lane)) {
			throw race(region, offset, lane, "writes", site, "read", s.readerSite[offset], reader);
		}
		s.writer[offset] = lane.launchIndex + 1;
		s.writerPhase[offset] = phases(lane);
		s.writerSite[offset] = site;
	}

	/** The other lane in words: {@code thread 5 of block 0} (linear indices) or {@code task 3}. */
	private String describe(int launchIndex, Lane me) {
		if (me.kind == Lane.Kind.TASK) {
			return "task " + launchIndex;
		}
		return "thread " + launchIndex % lanesPerGroup + " of block " + launchIndex / lanesPerGroup + " (linear indices)";
	}

	private VmError race(Region region, int offset, Lane lane, String access, int site, String otherAccess,
			int otherSite, int otherLane) {
		String barrier = lane.kind == Lane.Kind.TASK ? "__sync_cluster()/__sync_all()"
				: sameWarp(otherLane, lane) ? "__syncwarp() (or __syncthreads())" : "__syncthreads()";
		return new VmError(program.site(site), lane.describe(),
				"data race on byte " + offset + " of '" + region.name + "': " + lane.describe() + " " + access
						+ " it here, and " + describe(otherLane, lane) + " " + otherAccess + " it at "
						+ program.site(otherSite).location() + " (" + program.site(otherSite).text()
						+ ") with no " + barrier + " between them" + (lane.kind != Lane.Kind.TASK && sameWarp(otherLane, lane)
								? ": the threads of a warp do not run in lockstep (since Volta), and volatile does not order them"
								: ""));
	}

	/** Whether the lane {@code launchIndex} is in {@code me}'s warp. */
	private boolean sameWarp(int launchIndex, Lane me) {
		return launchIndex / lanesPerGroup == me.launchIndex / lanesPerGroup
				&& launchIndex % lanesPerGroup / me.warpSize == me.launchIndex % lanesPerGroup / me.warpSize;
	}
}
