package org.xpiler.core.vm;

import java.time.Duration;

/**
 * How the virtual device runs a kernel.
 *
 * @param stepBudget     loop iterations and calls allowed before the run is stopped as runaway
 * @param timeLimit      wall-clock limit
 * @param clusters       BANG clusters of the launch of a {@code __mlu_global__} entry (0: the device model's)
 * @param coresPerCluster BANG cores per cluster (0: the device model's)
 * @param detectRaces    whether to check accesses of concurrent threads and tasks for data races
 * @param growLimit      the largest size, in bytes, an entry argument of unknown size may grow to
 */
public record VmOptions(long stepBudget, Duration timeLimit, int clusters, int coresPerCluster, boolean detectRaces,
		int growLimit) {

	public static VmOptions defaults() {
		return new VmOptions(4_000_000_000L, Duration.ofMinutes(5), 0, 0, true, 1 << 30);
	}

	public VmOptions withStepBudget(long steps) {
		return new VmOptions(steps, timeLimit, clusters, coresPerCluster, detectRaces, growLimit);
	}

	public VmOptions withTimeLimit(Duration limit) {
		return new VmOptions(stepBudget, limit, clusters, coresPerCluster, detectRaces, growLimit);
	}

	/** The same options without the data-race check (a run that only observes which blocks write). */
	public VmOptions withoutRaceDetection() {
		return new VmOptions(stepBudget, timeLimit, clusters, coresPerCluster, false, growLimit);
	}

	/** {@code tasks} BANG tasks: whole clusters of the model's cores where it divides, else one core each. */
	public VmOptions withTasks(int tasks, int modelCoresPerCluster) {
		int cores = tasks % modelCoresPerCluster == 0 ? modelCoresPerCluster : 1;
		return new VmOptions(stepBudget, timeLimit, tasks / cores, cores, detectRaces, growLimit);
	}
}
