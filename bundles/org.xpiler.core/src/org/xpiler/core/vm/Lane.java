package org.xpiler.core.vm;

/**
 * One thread of a CUDA/HIP block or one task of a BANG kernel, or the host: its builtin coordinates, the
 * addresses of its instances of static variables (a block's {@code __shared__}, a task's {@code __nram__}),
 * and its place in the gang that interleaves the lanes of a launch between barriers.
 */
public final class Lane {
	final Execution execution;
	final int[] thread = { 0, 0, 0 };
	final int[] block = { 0, 0, 0 };
	final int[] blockDim = { 1, 1, 1 };
	final int[] gridDim = { 1, 1, 1 };
	int warpSize = 32;
	/** Position in the launch (all blocks' threads, or all tasks), used by the race detector. */
	int launchIndex;
	/** Position in the gang, and the barrier group (block or cluster) this lane synchronizes with. */
	int gangIndex;
	int group;
	int taskId;
	int taskDim = 1;
	int clusterId;
	int clusterDim = 1;
	int coreId;
	int coreDim = 1;
	/** Barriers passed: any barrier, and barriers of the whole launch ({@code __sync_all}). */
	int phase;
	int allPhase;
	/** {@code __syncwarp} barriers passed (SIMT lanes). */
	int warpPhase;
	long[] statics;
	Gang gang;
	/** The task's {@code __memcpy_async} copies in flight; null until it issues one. */
	AsyncCopies asyncCopies;
	final Kind kind;

	enum Kind {
		HOST, SIMT, TASK
	}

	Lane(Execution execution, Kind kind) {
		this.execution = execution;
		this.kind = kind;
	}

	int linearThread() {
		return thread[0] + blockDim[0] * (thread[1] + blockDim[1] * thread[2]);
	}

	int linearBlock() {
		return block[0] + gridDim[0] * (block[1] + gridDim[1] * block[2]);
	}

	int laneInWarp() {
		return linearThread() % warpSize;
	}

	/** {@code thread (3,0,0) of block (1,0,0)}, {@code task 5 (cluster 1, core 1)}, or empty on the host. */
	public String describe() {
		return switch (kind) {
		case HOST -> "";
		case SIMT -> "thread (" + thread[0] + "," + thread[1] + "," + thread[2] + ") of block (" + block[0] + ","
				+ block[1] + "," + block[2] + ")";
		case TASK -> "task " + taskId + " (cluster " + clusterId + ", core " + coreId + ")";
		};
	}
}
