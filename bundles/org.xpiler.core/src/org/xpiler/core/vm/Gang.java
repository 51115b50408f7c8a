package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;

/**
 * Runs the lanes of a launch that synchronize (barriers, warp collectives) as coroutines on virtual threads:
 * exactly one lane runs at a time and hands over at each synchronization point, so runs are deterministic and
 * the lanes of a block interleave between barriers as on hardware. A barrier releases when every lane of its
 * group that has not returned waits at one; lanes that cannot all meet are reported as a deadlock.
 */
final class Gang {
	private static final int RUNNABLE = 0;
	private static final int AT_BARRIER = 1;
	private static final int AT_COLLECTIVE = 2;
	private static final int DONE = 3;

	private final Lane[] lanes;
	private final Memory memory;
	private final int[] state;
	private final int[] waitSite;
	private final Semaphore[] go;
	private final Semaphore finished = new Semaphore(0);
	private RuntimeException failure;
	private boolean aborted;
	/** Values and parameters deposited for the current warp collective, and each lane's result. */
	private final long[] exchange;
	private final long[] parameters;
	private final long[] results;

	/** Thrown in lanes that must unwind after another lane failed. */
	private static final class Abort extends RuntimeException {
		private static final long serialVersionUID = 1L;

		Abort() {
			super(null, null, false, false);
		}
	}

	Gang(Lane[] lanes, Memory memory) {
		this.lanes = lanes;
		this.memory = memory;
		this.state = new int[lanes.length];
		this.waitSite = new int[lanes.length];
		this.go = new Semaphore[lanes.length];
		this.exchange = new long[lanes.length];
		this.parameters = new long[lanes.length];
		this.results = new long[lanes.length];
		for (int i = 0; i < lanes.length; i++) {
			go[i] = new Semaphore(0);
			lanes[i].gang = this;
			lanes[i].gangIndex = i;
		}
	}

	/** Runs {@code body} for every lane and returns when all have returned; rethrows the first fault. */
	void run(Consumer<Lane> body) {
		List<Thread> threads = new ArrayList<>();
		for (int i = 0; i < lanes.length; i++) {
			int index = i;
			threads.add(Thread.ofVirtual().unstarted(() -> {
				go[index].acquireUninterruptibly();
				try {
					if (!aborted) {
						memory.lane = lanes[index];
						body.accept(lanes[index]);
					}
				} catch (Abort unwinding) {
					// another lane failed
				} catch (RuntimeException | Error e) {
					if (failure == null) {
						failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
					}
					aborted = true;
				} finally {
					state[index] = DONE;
					handOver(index);
				}
			}));
		}
		threads.forEach(Thread::start);
		go[0].release();
		finished.acquireUninterruptibly();
		for (Thread t : threads) {
			try {
				t.join();
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
		}
		if (failure != null) {
			throw failure;
		}
	}

	/** {@code __syncthreads}, {@code __sync_cluster}, {@code __sync_all}: waits for the lane's group. */
	void barrier(Lane me, boolean wholeLaunch, int site) {
		int i = me.gangIndex;
		state[i] = AT_BARRIER;
		waitSite[i] = wholeLaunch ? -site - 1 : site;
		handOver(i);
		await(i);
	}

	/** What a warp collective computes for one lane from the values every lane of the warp deposited. */
	interface WarpOperation {
		long result(int lane, long[] values, boolean[] active, long parameter);
	}

	/**
	 * A warp collective: deposits {@code value} (and the lane's own {@code parameter}, such as a source lane);
	 * the warp's last live lane to arrive computes every lane's result at once, so a lane that runs ahead into
	 * the next collective cannot disturb what the others read.
	 */
	long collective(Lane me, long value, long parameter, WarpOperation operation, int warpSize, int site) {
		int i = me.gangIndex;
		exchange[i] = value;
		parameters[i] = parameter;
		state[i] = AT_COLLECTIVE;
		waitSite[i] = site;
		int first = i - me.laneInWarp();
		int end = Math.min(lanes.length, first + warpSize);
		for (int k = first; k < end; k++) {
			if (state[k] != AT_COLLECTIVE && state[k] != DONE) {
				handOver(i);
				await(i);
				return results[i];
			}
		}
		long[] values = new long[end - first];
		boolean[] active = new boolean[end - first];
		for (int k = first; k < end; k++) {
			active[k - first] = state[k] == AT_COLLECTIVE;
			values[k - first] = exchange[k];
		}
		for (int k = first; k < end; k++) {
			if (state[k] == AT_COLLECTIVE) {
				results[k] = operation.result(k - first, values, active, parameters[k]);
				state[k] = k == i ? RUNNABLE : RUNNABLE_AFTER_COLLECTIVE;
			}
		}
		return results[i];
	}

	/** Lanes released from a collective run again when their turn comes; they must not deposit anew. */
	private static final int RUNNABLE_AFTER_COLLECTIVE = 4;

	private void await(int i) {
		go[i].acquireUninterruptibly();
		memory.lane = lanes[i];
		if (aborted) {
			throw new Abort();
		}
	}

	/** Passes the token to the next lane that can run, releasing a barrier when nobody can. */
	private void handOver(int from) {
		int n = lanes.length;
		if (aborted) {
			for (int k = 0; k < n; k++) {
				if (state[k] != DONE && k != from) {
					state[k] = RUNNABLE;
					go[k].release();
					return;
				}
			}
			finished.release();
			return;
		}
		for (int step = 1; step <= n; step++) {
			int k = (from + step) % n;
			if (state[k] == RUNNABLE || state[k] == RUNNABLE_AFTER_COLLECTIVE) {
				if (k == from) {
					return;
				}
				state[k] = RUNNABLE;
				go[k].release();
				return;
			}
		}
		if (releaseBarrier()) {
			for (int step = 0; step < n; step++) {
				int k = (from + 1 + step) % n;
				if (state[k] == RUNNABLE) {
					if (k != from) {
						go[k].release();
					}
					return;
				}
			}
		}
		boolean anyWaiting = false;
		for (int k = 0; k < n; k++) {
			anyWaiting |= state[k] != DONE;
		}
		if (anyWaiting) {
			failure = deadlock();
			aborted = true;
			for (int k = 0; k < n; k++) {
				if (state[k] != DONE && k != from) {
					state[k] = RUNNABLE;
					go[k].release();
					return;
				}
			}
		}
		finished.release();
	}

	/** Releases every group whose live lanes all wait at a barrier; false when none could be released. */
	private boolean releaseBarrier() {
		boolean released = false;
		boolean everyoneAtBarrier = true;
		boolean anyWholeLaunch = false;
		for (int k = 0; k < lanes.length; k++) {
			everyoneAtBarrier &= state[k] == AT_BARRIER || state[k] == DONE;
			anyWholeLaunch |= state[k] == AT_BARRIER && waitSite[k] < 0;
		}
		if (everyoneAtBarrier && anyWholeLaunch) {
			for (int k = 0; k < lanes.length; k++) {
				if (state[k] == AT_BARRIER) {
					state[k] = RUNNABLE;
					lanes[k].phase++;
					lanes[k].allPhase++;
				}
			}
			return true;
		}
		for (int k = 0; k < lanes.length; k++) {
			if (state[k] != AT_BARRIER || waitSite[k] < 0) {
				continue;
			}
			int group = lanes[k].group;
			boolean all = true;
			for (int j = 0; j < lanes.length; j++) {
				if (lanes[j].group == group) {
					all &= state[j] == DONE || state[j] == AT_BARRIER && waitSite[j] >= 0;
				}
			}
			if (all) {
				for (int j = 0; j < lanes.length; j++) {
					if (lanes[j].group == group && state[j] == AT_BARRIER) {
						state[j] = RUNNABLE;
						lanes[j].phase++;
					}
				}
				released = true;
			}
		}
		return released;
	}

	private VmError deadlock() {
		StringBuilder waiting = new StringBuilder();
		int shown = 0;
		Program program = lanes[0].execution.program;
		int firstSite = 0;
		for (int k = 0; k < lanes.length && shown < 3; k++) {
			if (state[k] == AT_BARRIER || state[k] == AT_COLLECTIVE) {
				int site = waitSite[k] < 0 ? -waitSite[k] - 1 : waitSite[k];
				firstSite = shown == 0 ? site : firstSite;
				waiting.append(shown++ == 0 ? "" : "; ").append(lanes[k].describe()).append(" waits at ")
						.append(program.site(site).location());
			}
		}
		return new VmError(program.site(firstSite), "", "the threads of a group cannot all reach the same barrier or warp "
				+ "collective (divergent synchronization): " + waiting);
	}
}
