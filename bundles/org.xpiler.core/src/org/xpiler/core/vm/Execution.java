package org.xpiler.core.vm;

/**
 * The state of one run: its memory, its step budget and deadline, and the launches made so far (numbered for
 * the race detector).
 */
final class Execution {
	private static final long CHUNK = 1 << 20;

	final Program program;
	final Memory memory;
	final VmOptions options;
	private final long deadline;
	private long budgetLeft;
	/** Counts down; when it reaches zero, {@link #tick} checks the budget and the deadline. */
	long steps = CHUNK;
	int launches;
	/** When set, a SIMT launch runs this block alone: what launch-shape inference asks of one block. */
	int[] onlyBlock;
	final Lane host;
	private long[] programStatics;

	Execution(Program program, VmOptions options) {
		this.program = program;
		this.memory = new Memory(program);
		this.options = options;
		this.deadline = System.nanoTime() + options.timeLimit().toNanos();
		this.budgetLeft = options.stepBudget();
		this.host = new Lane(this, Lane.Kind.HOST);
	}

	/**
	 * The addresses of the program-wide statics (file-scope variables, {@code __device__} and
	 * {@code __constant__} data), allocated and initialized on first use.
	 */
	long[] programStatics() {
		if (programStatics == null) {
			programStatics = new long[program.statics.size()];
			for (int i = 0; i < programStatics.length; i++) {
				Program.StaticVariable s = program.statics.get(i);
				if (s.scope() == Program.Scope.PROGRAM) {
					programStatics[i] = memory.allocate(s.name(), s.space(), Math.max(1, s.type().size()), 64, false);
				}
			}
			host.statics = programStatics;
			CompiledFunction initializer = program.staticInitializer();
			initializer.invoke(new Frame(initializer, host));
		}
		return programStatics;
	}

	/** Called every {@code CHUNK} steps: stops a runaway kernel at the loop or call that exhausted the budget. */
	void tick(Frame f, int site) {
		budgetLeft -= CHUNK;
		steps = CHUNK;
		if (budgetLeft <= 0) {
			throw new VmError(program.site(site), f.lane.describe(), "the step budget of " + options.stepBudget()
					+ " loop iterations and calls is exhausted: an endless loop?");
		}
		if (System.nanoTime() > deadline || Thread.currentThread().isInterrupted()) {
			throw new VmError(program.site(site), f.lane.describe(),
					"the run exceeded its time limit of " + options.timeLimit().toSeconds() + " s: an endless loop?");
		}
	}
}
