package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

import org.eclipse.emf.common.util.TreeIterator;
import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.catalog.CatalogEntries.DeviceModel;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BreakStatement;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.ContinueStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.SwitchStatement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.kernel.WhileStatement;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Cache: an operand that a loop nest reads again and again is copied once into faster memory before the loop
 * that reuses it, and the reads inside index the copy. A GEMV re-reads the whole vector {@code x} for every
 * row, so {@code x} is staged before the row loop (once per task on BANG, where NRAM is per core); the row
 * {@code A[i*K .. i*K+K)} is read once per row but as scattered scalar loads, so staging it at the start of
 * the row loop's body turns them into one contiguous copy per row.
 *
 * <pre>
 * before: extern "C" __mlu_global__ void gemv_kernel(const float *A, const float *x, float *y) {
 *             for (int i = taskId; i < 768; i += taskDim) {
 *                 float acc = 0.0f;
 *                 for (int k = 0; k < 768; ++k) acc += A[i * 768 + k] * x[k];
 *                 y[i] = acc; } }
 * after:  extern "C" __mlu_global__ void gemv_kernel(const float *A, const float *x, float *y) {
 *             __nram__ float x_nram[768];
 *             if (taskId < 768) { __memcpy(x_nram, x, 768 * sizeof(float), GDRAM2NRAM); }
 *             for (int i = taskId; i < 768; i += taskDim) {
 *                 float acc = 0.0f;
 *                 for (int k = 0; k < 768; ++k) acc += A[i * 768 + k] * x_nram[k];
 *                 y[i] = acc; } }
 * </pre>
 *
 * A candidate is a pointer parameter that the function only reads by subscript, and a region of the function
 * where its reads are {@code p[k]}, {@code p[base + k]} or {@code p[k + base]}: {@code k} the variable of a
 * canonical loop of constant bounds inside the region, {@code base} an arithmetic expression of names that
 * the region neither declares nor assigns. The region is a loop (staged before it: each of its iterations
 * re-reads the same elements) or a loop's body block (staged at its start, once per iteration of that
 * loop). The copy covers the hull of the ranges read, which must be contiguous, and every read must run on
 * every pass through the region (no enclosing condition, no loop that may not run, no break, continue or
 * return), so the copy reads nothing the original did not read. A region loop whose trip count is not a
 * known positive constant is guarded by its first test ({@code taskId < 768} for a task loop). Per pointer,
 * the outermost region that holds is the candidate; candidates rank outermost first (the most reuse).
 *
 * <p>Knobs: {@code scope} = {@code nram} ({@code __nram__ T p_nram[E];} at the top of a
 * {@code __mlu_global__} function, filled by {@code __memcpy(..., GDRAM2NRAM)}; BANG only, within the NRAM
 * the default device model leaves for {@code __nram__} arrays) or {@code local} (a local array
 * {@code T p_cache[E];} filled by a plain loop, in any dialect, up to {@link #LOCAL_BUFFER_BYTES});
 * {@link #options(Dialect, Dialect)} gives nram then local for BANG and local elsewhere. CUDA/HIP shared
 * memory is not offered (it needs a cooperative fill and a barrier). {@code operand} = {@code p@line N} (the
 * line where the copy goes) picks a candidate; without it the best candidate the scope can hold is staged.
 * {@link #options(TranslationUnit, Dialect, Dialect)} enumerates scope × operand. Precondition: the source
 * and target dialect are the same and such a candidate exists; refusals name the line of the construct.
 */
public final class Cache implements Pass {

	/** Where the copy lives. */
	public enum Scope {
		/** A local array: registers or stack on every target. */
		LOCAL,
		/** A BANG {@code __nram__} array, per core. */
		NRAM;

		/** The knob value, {@code local} or {@code nram}. */
		public String knob() {
			return name().toLowerCase();
		}
	}

	/** The largest local copy: beyond this a stack buffer is neither fast (L1) nor safe on GPU and MLU stacks. */
	static final long LOCAL_BUFFER_BYTES = 16 * 1024;

	private static final String NONE = "no read-only pointer operand with loop-invariant contiguous reuse and a "
			+ "constant extent";

	private final Scope scope;
	private final String operand;

	/** Stages the best candidate the scope can hold. */
	public Cache(Scope scope) {
		this(scope, null);
	}

	/** @param operand the candidate to stage, {@code p@line N} as {@code apply} reports it; null for the best */
	public Cache(Scope scope, String operand) {
		this.scope = scope;
		this.operand = operand;
	}

	/** The scopes to try for code of {@code from} turned into {@code to}, best first; none across dialects. */
	public static List<Cache> options(Dialect from, Dialect to) {
		if (from != to) {
			return List.of();
		}
		return to == Dialect.BANG ? List.of(new Cache(Scope.NRAM), new Cache(Scope.LOCAL))
				: List.of(new Cache(Scope.LOCAL));
	}

	/** Every scope with every candidate operand of {@code unit}, best first (scope by scope). */
	public static List<Cache> options(TranslationUnit unit, Dialect from, Dialect to) {
		List<Candidate> candidates = Search.of(unit, to).candidates;
		List<Cache> options = new ArrayList<>();
		for (Cache scoped : options(from, to)) {
			candidates.forEach(c -> options.add(new Cache(scoped.scope, c.operand())));
		}
		return options;
	}

	@Override
	public String name() {
		return "cache";
	}

	@Override
	public String summary() {
		return "stage an operand that a loop nest re-reads into a local or NRAM buffer before the loop";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != to) {
			return Optional.of("stages operands within one dialect");
		}
		if (scope == Scope.NRAM && to != Dialect.BANG) {
			return Optional.of("nram buffers exist in BANG C only");
		}
		try {
			choose(unit, to);
			return Optional.empty();
		} catch (PassRefusal e) {
			return Optional.of(e.getMessage());
		}
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		Candidate chosen = choose(unit, to);
		String label = chosen.operand(); // before the copy becomes the region's first statement
		String buffer = Snippets.freshName(unit, chosen.pointer + (scope == Scope.NRAM ? "_nram" : "_cache"), to);
		String offset = chosen.offset(to.printer());
		String extent = Long.toString(chosen.elements());
		String fill;
		if (scope == Scope.NRAM) {
			String source = offset.isEmpty() ? chosen.pointer : chosen.pointer + " + " + offset;
			fill = "__memcpy(" + buffer + ", " + source + ", " + extent + " * sizeof(" + chosen.type + "), GDRAM2NRAM);\n";
		} else {
			String j = Snippets.freshName(unit, buffer + "_i", to);
			fill = "for (int " + j + " = 0; " + j + " < " + extent + "; ++" + j + ") {\n" + buffer + "[" + j + "] = "
					+ chosen.pointer + "[" + (offset.isEmpty() ? "" : offset + " + ") + j + "];\n}\n";
		}
		String staging = chosen.guard.isEmpty() ? fill : "if (" + chosen.guard + ") {\n" + fill + "}\n";
		String declaration = (scope == Scope.NRAM ? "__nram__ " : "") + chosen.type + " " + buffer + "[" + extent
				+ "];\n";
		for (Access access : chosen.accesses) {
			long position = access.shift - chosen.lower;
			String index = access.variable + (position > 0 ? " + " + position : position < 0 ? " - " + -position : "");
			EcoreUtil.replace(access.read, Snippets.expression(buffer + "[" + index + "]", to));
		}
		CompoundStatement block = chosen.region instanceof CompoundStatement body ? body
				: Snippets.ensureInBlock(chosen.region);
		int at = chosen.region instanceof CompoundStatement ? 0 : block.getStatements().indexOf(chosen.region);
		String inserted = scope == Scope.NRAM ? staging : declaration + staging;
		block.getStatements().addAll(at, Snippets.statements(inserted, to));
		if (scope == Scope.NRAM) {
			chosen.function.getBody().getStatements().addAll(0, Snippets.statements(declaration, to));
		}
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("scope", scope.knob());
		knobs.put("operand", label);
		knobs.put("elements", extent);
		return knobs;
	}

	// ------------------------------------------------------------------ choosing

	/** The requested (or best) candidate that this scope can hold. */
	private Candidate choose(TranslationUnit unit, Dialect dialect) {
		Search search = Search.of(unit, dialect);
		if (search.candidates.isEmpty()) {
			throw new PassRefusal(NONE + explanation(search.reasons.values().stream().flatMap(Set::stream).toList()));
		}
		List<Candidate> wanted = search.candidates.stream().filter(c -> operand == null || c.operand().equals(operand))
				.toList();
		if (wanted.isEmpty()) {
			String pointer = operand.contains("@") ? operand.substring(0, operand.indexOf('@')) : operand;
			throw new PassRefusal("no operand " + operand + " to stage"
					+ explanation(List.copyOf(search.reasons.getOrDefault(pointer, Set.of()))) + "; candidates: "
					+ search.candidates.stream().map(Candidate::operand).collect(Collectors.joining(", ")));
		}
		List<String> misfits = new ArrayList<>();
		for (Candidate candidate : wanted) {
			Optional<String> misfit = misfit(candidate, unit, dialect);
			if (misfit.isEmpty()) {
				return candidate;
			}
			misfits.add(misfit.get());
		}
		throw new PassRefusal(String.join("; ", misfits));
	}

	/** The first reasons, in parentheses: enough to show what stands in the way without burying the record. */
	private static String explanation(List<String> reasons) {
		int shown = 4;
		if (reasons.isEmpty()) {
			return "";
		}
		String more = reasons.size() > shown ? "; and " + (reasons.size() - shown) + " more" : "";
		return " (" + String.join("; ", reasons.subList(0, Math.min(shown, reasons.size()))) + more + ")";
	}

	/** Why this scope cannot hold the candidate's copy, with the sizes. */
	private Optional<String> misfit(Candidate c, TranslationUnit unit, Dialect dialect) {
		long bytes = c.elements() * c.elementBytes;
		String size = c.operand() + ": " + c.elements() + " " + c.type + " elements (" + bytes + " bytes)";
		if (scope == Scope.LOCAL) {
			return bytes > LOCAL_BUFFER_BYTES
					? Optional.of(size + " exceed the " + LOCAL_BUFFER_BYTES + " bytes a local buffer may take")
					: Optional.empty();
		}
		if (!isKernelEntry(c.function)) {
			return Optional.of(c.operand() + ": " + c.pointer + " is a parameter of " + c.function.getName()
					+ ", not of a __mlu_global__ kernel, so it need not point to GDRAM");
		}
		DeviceModel model = Dialect.BANG.catalog().defaultDeviceModel().orElseThrow();
		long usable = model.usableBytes("nram");
		long used = nramBytes(unit, dialect);
		return used + bytes > usable
				? Optional.of(size + " do not fit the NRAM: the " + model.name() + " leaves " + usable
						+ " bytes for __nram__ arrays and " + used + " are taken")
				: Optional.empty();
	}

	private static boolean isKernelEntry(FunctionDefinition f) {
		return f.getSpecifiers().stream().anyMatch(s -> s instanceof Specifier q
				&& (q.getName().equals("__mlu_global__") || q.getName().equals("__mlu_entry__")));
	}

	/** Bytes of the file's {@code __nram__} arrays whose sizes fold. */
	private static long nramBytes(TranslationUnit unit, Dialect dialect) {
		long total = 0;
		for (var it = unit.eAllContents(); it.hasNext();) {
			if (it.next() instanceof Declaration d && d.getSpecifiers().stream()
					.anyMatch(s -> s instanceof Specifier q && q.getName().equals("__nram__"))) {
				OptionalLong element = elementBytes(d.getType(), dialect);
				for (Declarator x : d.getDeclarators()) {
					OptionalLong count = OptionalLong.of(1);
					for (var dimension : x.getDimensions()) {
						OptionalLong n = dimension.getSize() == null ? OptionalLong.empty()
								: new ConstantFolder().fold(dimension.getSize());
						count = count.isPresent() && n.isPresent() ? OptionalLong.of(count.getAsLong() * n.getAsLong())
								: OptionalLong.empty();
					}
					total += element.isPresent() && count.isPresent() ? element.getAsLong() * count.getAsLong() : 0;
				}
			}
		}
		return total;
	}

	/** {@code sizeof(T)} of a scalar type, when it folds. */
	private static OptionalLong elementBytes(TypeSpecifier type, Dialect dialect) {
		return new ConstantFolder().fold(Snippets.expression("sizeof(" + type.getName() + ")", dialect));
	}

	/** {@code base}, or {@code base_2}, ...: a name neither the file nor the dialect's catalog uses. */
	// ------------------------------------------------------------------ analysis

	/** A read {@code p[base + k]}: {@code shift} is the constant part of the base, {@code [lower, upper)} k's range. */
	private record Access(Index read, String variable, Expression base, long shift, long lower, long upper) {
	}

	/**
	 * A pointer and the region its copy serves: a loop (copy before it) or a loop's body block (copy at its
	 * start). {@code guard} is the condition under which a region loop runs, "" when it surely does; the copy
	 * holds {@code pointer[base + lower .. base + upper)}.
	 */
	private record Candidate(FunctionDefinition function, String pointer, String type, long elementBytes,
			Statement region, String guard, List<Access> accesses, long lower, long upper) {

		String operand() {
			Statement at = region instanceof CompoundStatement body ? body.getStatements().get(0) : region;
			return pointer + "@" + Snippets.location(at);
		}

		long elements() {
			return upper - lower;
		}

		/** The element offset of the copy, as C text; "" for none. */
		String offset(KernelPrinter printer) {
			Expression base = accesses.get(0).base;
			if (base == null) {
				return lower == 0 ? "" : Long.toString(lower);
			}
			String text = base instanceof Binary b && !b.getOp().equals("*") && !b.getOp().equals("/")
					&& !b.getOp().equals("%") ? "(" + printer.expression(base) + ")" : printer.expression(base);
			return lower == 0 ? text : lower > 0 ? text + " + " + lower : text + " - " + -lower;
		}

		int depth() {
			int depth = 0;
			for (EObject o = region.eContainer(); o != null; o = o.eContainer()) {
				depth += o instanceof ForStatement ? 1 : 0;
			}
			return depth;
		}
	}

	/** A read-only pointer parameter and its reads. */
	private record Operand(FunctionDefinition function, String name, String type, long elementBytes,
			List<Index> reads) {
	}

	/** The candidates of a file, best first, and per pointer why its other regions do not qualify. */
	private static final class Search {
		private static final Set<String> ARITHMETIC = Set.of("+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^");

		final List<Candidate> candidates = new ArrayList<>();
		final Map<String, Set<String>> reasons = new LinkedHashMap<>();
		private final Dialect dialect;

		private Search(Dialect dialect) {
			this.dialect = dialect;
		}

		static Search of(TranslationUnit unit, Dialect dialect) {
			Search search = new Search(dialect);
			for (FunctionDefinition f : Snippets.definedFunctions(unit)) {
				for (Parameter p : f.getParams()) {
					search.operand(f, p).ifPresent(search::regions);
				}
			}
			search.candidates.sort(Comparator.comparingInt(Candidate::depth));
			return search;
		}

		private void reason(String pointer, String reason) {
			reasons.computeIfAbsent(pointer, k -> new LinkedHashSet<>()).add(reason);
		}

		/** The parameter as an operand when it is a scalar pointer that the function only reads by subscript. */
		private Optional<Operand> operand(FunctionDefinition f, Parameter p) {
			Declarator d = p.getDeclarator();
			OptionalLong bytes = elementBytes(p.getType(), dialect);
			if (d.getName() == null || d.getPointers().size() != 1 || !d.getDimensions().isEmpty() || bytes.isEmpty()) {
				return Optional.empty();
			}
			String name = d.getName();
			if (CanonicalLoop.declares(f.getBody(), name)) {
				reason(name, name + " is declared again in " + f.getName());
				return Optional.empty();
			}
			List<Index> reads = new ArrayList<>();
			for (var it = f.getBody().eAllContents(); it.hasNext();) {
				if (!(it.next() instanceof Name n) || !n.getName().equals(name)) {
					continue;
				}
				if (!(n.eContainer() instanceof Index read) || read.getTarget() != n) {
					reason(name, Snippets.location(n) + ": " + name + " is used other than by a subscript");
					return Optional.empty();
				}
				EObject user = read.eContainer();
				if (user instanceof Assignment a && a.getLeft() == read || user instanceof Postfix
						|| user instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--"))) {
					reason(name, Snippets.location(n) + ": " + name + " is written");
					return Optional.empty();
				}
				if (user instanceof Unary u && u.getOp().equals("&")
						|| user instanceof Index outer && outer.getTarget() == read) {
					reason(name, Snippets.location(n) + ": " + name + " is used other than by a subscript");
					return Optional.empty();
				}
				reads.add(read);
			}
			return reads.isEmpty() ? Optional.empty()
					: Optional.of(new Operand(f, name, p.getType().getName(), bytes.getAsLong(), reads));
		}

		/** The outermost regions of the function that hold for the operand, each a candidate. */
		private void regions(Operand op) {
			for (TreeIterator<EObject> it = op.function.getBody().eAllContents(); it.hasNext();) {
				if (!(it.next() instanceof ForStatement loop)) {
					continue;
				}
				List<Statement> regions = loop.getBody() instanceof CompoundStatement body ? List.of(loop, body)
						: List.of(loop);
				for (Statement region : regions) {
					List<Index> inside = op.reads.stream().filter(r -> EcoreUtil.isAncestor(region, r)).toList();
					if (inside.isEmpty()) {
						break;
					}
					try {
						candidates.add(candidate(op, region, inside));
						it.prune();
						break;
					} catch (PassRefusal e) {
						reason(op.name, e.getMessage());
					}
				}
			}
		}

		private Candidate candidate(Operand op, Statement region, List<Index> reads) {
			ForStatement loop = region instanceof ForStatement f ? f : null;
			Statement body = loop != null ? loop.getBody() : region;
			for (var it = region.eAllContents(); it.hasNext();) {
				EObject o = it.next();
				if (o instanceof BreakStatement || o instanceof ContinueStatement || o instanceof ReturnStatement) {
					throw PassRefusal.at(o, "leaves " + describe(region) + " early, so not every read may run");
				}
			}
			String guard = loop == null ? "" : entryCondition(loop);
			List<Access> accesses = new ArrayList<>();
			for (Index read : reads) {
				if (!EcoreUtil.isAncestor(body, read)) {
					throw PassRefusal.at(read, op.name + " is read in the header of " + describe(region));
				}
				Access access = access(op, read, region, body);
				alwaysRuns(read, body);
				accesses.add(access);
			}
			KernelPrinter printer = dialect.printer();
			String base = baseText(accesses.get(0), printer);
			long lower = Long.MAX_VALUE;
			long upper = Long.MIN_VALUE;
			for (Access a : accesses.stream().sorted(Comparator.comparingLong(a -> a.shift + a.lower)).toList()) {
				if (!baseText(a, printer).equals(base)) {
					throw PassRefusal.at(a.read, op.name + " is read at offsets from different bases (" + base + " and "
							+ baseText(a, printer) + ") in " + describe(region));
				}
				if (upper != Long.MIN_VALUE && a.shift + a.lower > upper) {
					throw PassRefusal.at(a.read, "the ranges of " + op.name + " read in " + describe(region)
							+ " leave a gap before element " + (a.shift + a.lower));
				}
				lower = Math.min(lower, a.shift + a.lower);
				upper = Math.max(upper, a.shift + a.upper);
			}
			return new Candidate(op.function, op.name, op.type, op.elementBytes, region, guard, List.copyOf(accesses),
					lower, upper);
		}

		private static String baseText(Access a, KernelPrinter printer) {
			return a.base == null ? "" : printer.expression(a.base);
		}

		/**
		 * The read as {@code p[k]}, {@code p[base + k]} or {@code p[k + base]} with k the variable of a canonical
		 * loop of constant bounds inside {@code body} and base invariant in the region.
		 */
		private Access access(Operand op, Index read, Statement region, Statement body) {
			Expression index = read.getIndex();
			List<Expression[]> splits = index instanceof Binary b && b.getOp().equals("+")
					? List.of(new Expression[] { b.getLeft(), b.getRight() },
							new Expression[] { b.getRight(), b.getLeft() })
					: List.<Expression[]>of(new Expression[] { null, index });
			String text = op.name + "[" + dialect.printer().expression(index) + "]";
			PassRefusal moving = null;
			for (Expression[] split : splits) {
				Expression base = split[0];
				Optional<CanonicalLoop> loop = split[1] instanceof Name k ? loopOf(k) : Optional.empty();
				if (loop.isEmpty() || loop.get().tripCount().isEmpty() || !EcoreUtil.isAncestor(body, loop.get().loop())
						|| base != null && !isArithmetic(base)) {
					continue;
				}
				Optional<String> changing = base == null ? Optional.empty() : changingName(base, region);
				if (changing.isPresent()) {
					moving = PassRefusal.at(read, text + " reads a range that moves with " + changing.get() + " in "
							+ describe(region));
					continue;
				}
				OptionalLong constant = base == null ? OptionalLong.of(0) : new ConstantFolder().fold(base);
				CanonicalLoop k = loop.get();
				return new Access(read, k.variable(), constant.isPresent() ? null : base, constant.orElse(0),
						k.constantLower().getAsLong(), k.constantUpper().getAsLong());
			}
			throw moving != null ? moving
					: PassRefusal.at(read, text + " is not indexed as k or base + k with k the variable of a loop of "
							+ "constant bounds in " + describe(region) + " and base plain arithmetic");
		}

		/** The canonical loop that declares the variable {@code k} refers to, if a loop declares it. */
		private static Optional<CanonicalLoop> loopOf(Name k) {
			EObject child = k;
			for (EObject parent = k.eContainer(); parent != null
					&& !(parent instanceof FunctionDefinition); parent = parent.eContainer()) {
				if (parent instanceof CompoundStatement block) {
					for (Statement s : block.getStatements()) {
						if (s == child) {
							break;
						}
						if (s instanceof DeclarationStatement d && d.getDeclaration().getDeclarators().stream()
								.anyMatch(x -> k.getName().equals(x.getName()))) {
							return Optional.empty();
						}
					}
				}
				if (parent instanceof ForStatement f && f.getInitDeclaration() != null && child != f.getInitDeclaration()
						&& f.getInitDeclaration().getDeclarators().stream()
								.anyMatch(x -> k.getName().equals(x.getName()))) {
					return CanonicalLoop.of(f);
				}
				child = parent;
			}
			return Optional.empty();
		}

		/** Names, literals, casts and arithmetic: an expression whose value only its names decide. */
		private static boolean isArithmetic(Expression e) {
			return EcoreUtil2.eAllOfType(e, EObject.class).stream().allMatch(o -> !(o instanceof Expression) || o instanceof Name
					|| o instanceof IntLiteral || o instanceof Parenthesized || o instanceof Cast
					|| o instanceof Unary u && Set.of("-", "+", "~").contains(u.getOp())
					|| o instanceof Binary b && ARITHMETIC.contains(b.getOp()));
		}

		/** A name of {@code base} that the region declares, assigns, or that has its address taken. */
		private static Optional<String> changingName(Expression base, Statement region) {
			FunctionDefinition function = EcoreUtil2.getContainerOfType(region, FunctionDefinition.class);
			return EcoreUtil2.eAllOfType(base, Name.class).stream().map(Name::getName)
					.filter(name -> CanonicalLoop.declares(region, name) || CanonicalLoop.assignsAny(region, Set.of(name))
							|| addressTaken(function, name))
					.findFirst();
		}

		private static boolean addressTaken(FunctionDefinition function, String name) {
			for (var it = function.eAllContents(); it.hasNext();) {
				if (it.next() instanceof Unary u && u.getOp().equals("&") && u.getOperand() instanceof Name n
						&& n.getName().equals(name)) {
					return true;
				}
			}
			return false;
		}

		/** Refuses a read that does not run on every pass through {@code body}. */
		private static void alwaysRuns(Index read, Statement body) {
			for (EObject child = read; child != body; child = child.eContainer()) {
				EObject parent = child.eContainer();
				boolean conditional = parent instanceof IfStatement s && s.getCondition() != child
						|| parent instanceof WhileStatement w && w.getCondition() != child
						|| parent instanceof SwitchStatement sw && sw.getCondition() != child
						|| parent instanceof Conditional c && c.getCondition() != child
						|| parent instanceof Binary b && Set.of("&&", "||").contains(b.getOp()) && b.getLeft() != child;
				if (conditional) {
					throw PassRefusal.at(read, "the read runs only under the condition at "
							+ Snippets.location(parent));
				}
				if (parent instanceof ForStatement f && trips(f).orElse(0) <= 0) {
					throw PassRefusal.at(read, "the read sits in the loop at " + Snippets.location(f)
							+ ", which may not run (its trip count is not a positive constant)");
				}
			}
		}

		/**
		 * The condition under which {@code loop} runs at least once, as C text: "" when its trip count is a
		 * positive constant, else its first test, {@code (init) < bound}.
		 */
		private String entryCondition(ForStatement loop) {
			OptionalLong trips = trips(loop);
			if (trips.isPresent()) {
				if (trips.getAsLong() == 0) {
					throw PassRefusal.at(loop, "the loop never runs");
				}
				return "";
			}
			if (loop.getInitDeclaration() != null && loop.getInitDeclaration().getDeclarators().size() == 1
					&& loop.getInitDeclaration().getDeclarators().get(0).getInitializer() instanceof Expression init
					&& loop.getCondition() instanceof Binary test
					&& Set.of("<", "<=", ">", ">=", "!=").contains(test.getOp())
					&& test.getLeft() instanceof Name v
					&& v.getName().equals(loop.getInitDeclaration().getDeclarators().get(0).getName())
					&& isPure(init) && isPure(test.getRight()) && !Snippets.mentions(test.getRight(), v.getName())) {
				KernelPrinter printer = dialect.printer();
				String first = init instanceof Name || init instanceof IntLiteral || init instanceof Parenthesized
						? printer.expression(init) : "(" + printer.expression(init) + ")";
				return first + " " + test.getOp() + " " + printer.expression(test.getRight());
			}
			throw PassRefusal.at(loop, "cannot tell before the loop whether it runs (its condition is not "
					+ "v < bound over its own variable with side-effect-free operands)");
		}

		/** The trip count of a canonical loop, when it folds. */
		private static OptionalLong trips(ForStatement loop) {
			return CanonicalLoop.of(loop).map(CanonicalLoop::tripCount).orElse(OptionalLong.empty());
		}

		private static boolean isPure(Expression e) {
			return EcoreUtil2.eAllOfType(e, EObject.class).stream().noneMatch(o -> o instanceof Assignment || o instanceof Postfix
					|| o instanceof Call || o instanceof KernelLaunch
					|| o instanceof Unary u && Set.of("++", "--").contains(u.getOp()));
		}

		private static String describe(Statement region) {
			return region instanceof ForStatement ? "the loop at " + Snippets.location(region)
					: "the body of the loop at " + Snippets.location(region.eContainer());
		}
	}
}
