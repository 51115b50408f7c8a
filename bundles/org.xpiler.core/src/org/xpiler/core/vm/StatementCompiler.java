package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.xpiler.core.vm.FunctionCompiler.Storage;
import org.xpiler.core.vm.FunctionCompiler.Var;
import org.xpiler.lang.kernel.AlignAs;
import org.xpiler.lang.kernel.AttributeItem;
import org.xpiler.lang.kernel.BreakStatement;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CaseLabel;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.ContinueStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.DefaultLabel;
import org.xpiler.lang.kernel.DirectiveStatement;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.EmptyStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.GnuAttribute;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Initializer;
import org.xpiler.lang.kernel.InitializerList;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.PointerOperator;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.SwitchStatement;
import org.xpiler.lang.kernel.WhileStatement;

/**
 * Compiles statements: blocks with their scopes, declarations (registers, local arrays in memory, on-chip
 * statics, references bound to places), the C control flow, and a step-budget check on every loop iteration
 * so a runaway loop stops with its location.
 */
final class StatementCompiler {
	private static final Stmt NOTHING = f -> Stmt.NORMAL;

	private final FunctionCompiler fc;
	private final Program program;

	StatementCompiler(FunctionCompiler fc) {
		this.fc = fc;
		this.program = fc.program;
	}

	private ExpressionCompiler expressions() {
		return fc.expressions;
	}

	Stmt block(List<Statement> statements, boolean newScope) {
		if (newScope) {
			fc.pushScope();
		}
		try {
			Stmt[] compiled = statements.stream().map(this::compile).filter(s -> s != NOTHING).toArray(Stmt[]::new);
			if (compiled.length == 1) {
				return compiled[0];
			}
			return f -> {
				for (Stmt s : compiled) {
					int r = s.exec(f);
					if (r != Stmt.NORMAL) {
						return r;
					}
				}
				return Stmt.NORMAL;
			};
		} finally {
			if (newScope) {
				fc.popScope();
			}
		}
	}

	Stmt compile(Statement statement) {
		return switch (statement) {
		case CompoundStatement block -> block(block.getStatements(), true);
		case DeclarationStatement declaration -> declaration(declaration.getDeclaration());
		case ExpressionStatement e when statementMacro(e) != null -> macroStatement(statementMacro(e),
				(Call) e.getExpression());
		case ExpressionStatement e -> expression(e.getExpression());
		case IfStatement s -> ifStatement(s);
		case ForStatement s -> forStatement(s);
		case WhileStatement s -> loop(null, s.getCondition(), null, s.getBody(), false, program.site(s));
		case DoStatement s -> loop(null, s.getCondition(), null, s.getBody(), true, program.site(s));
		case SwitchStatement s -> switchStatement(s);
		case BreakStatement b -> f -> Stmt.BREAK;
		case ContinueStatement c -> f -> Stmt.CONTINUE;
		case ReturnStatement r -> returnStatement(r);
		case DirectiveStatement d -> NOTHING;
		case EmptyStatement e -> NOTHING;
		case CaseLabel c -> throw expressions().error(c.getValue(), "a case label outside a switch");
		case DefaultLabel d -> NOTHING;
		default -> throw new CompileError(program.site(program.site(statement)), "this statement is not supported");
		};
	}

	/** The statement macro that {@code statement} invokes ({@code CHECK(cudaMalloc(&d_x, bytes));}), or null. */
	private Program.Macro statementMacro(ExpressionStatement statement) {
		if (statement.getExpression() instanceof Call call && call.getCallee() instanceof Name name
				&& fc.lookup(name.getName()) == null) {
			Program.Macro macro = program.macros.get(name.getName());
			return macro != null && macro.statement() != null ? macro : null;
		}
		return null;
	}

	/** The macro's statement in a scope of its own, its parameters standing for the call's argument expressions. */
	private Stmt macroStatement(Program.Macro macro, Call call) {
		if (call.getArgs().size() != macro.parameters().size()) {
			throw expressions().error(call, "the macro " + macro.name() + " takes " + macro.parameters().size()
					+ " arguments");
		}
		Map<String, Expression> bound = new HashMap<>();
		for (int i = 0; i < call.getArgs().size(); i++) {
			bound.put(macro.parameters().get(i), call.getArgs().get(i));
		}
		fc.macroArguments.push(bound);
		try {
			return scoped(macro.statement());
		} finally {
			fc.macroArguments.pop();
		}
	}

	private Stmt expression(Expression expression) {
		Ex e = expressions().compile(expression);
		return switch (e.type.kind()) {
		case DOUBLE -> f -> {
			e.d(f);
			return Stmt.NORMAL;
		};
		case OBJECT -> f -> {
			e.o(f);
			return Stmt.NORMAL;
		};
		default -> f -> {
			e.l(f);
			return Stmt.NORMAL;
		};
		};
	}

	private Stmt ifStatement(IfStatement s) {
		Ex condition = expressions().truth(expressions().compile(s.getCondition()));
		Stmt then = scoped(s.getThen());
		Stmt otherwise = s.getElse() == null ? NOTHING : scoped(s.getElse());
		return f -> condition.l(f) != 0 ? then.exec(f) : otherwise.exec(f);
	}

	private Stmt scoped(Statement statement) {
		fc.pushScope();
		try {
			return compile(statement);
		} finally {
			fc.popScope();
		}
	}

	private Stmt forStatement(ForStatement s) {
		fc.pushScope();
		try {
			Stmt init = s.getInitDeclaration() != null ? declaration(s.getInitDeclaration())
					: s.getInitExpression() != null ? expression(s.getInitExpression()) : NOTHING;
			return loop(init, s.getCondition(), s.getUpdate(), s.getBody(), false, program.site(s));
		} finally {
			fc.popScope();
		}
	}

	private Stmt loop(Stmt init, Expression conditionExpression, Expression updateExpression, Statement bodyStatement,
			boolean testAfter, int site) {
		Ex condition = conditionExpression == null ? Ex.constant(VmType.I32, 1L)
				: expressions().truth(expressions().compile(conditionExpression));
		Stmt update = updateExpression == null ? null : expression(updateExpression);
		Stmt body = scoped(bodyStatement);
		Stmt start = init == null ? NOTHING : init;
		return f -> {
			start.exec(f);
			Execution execution = f.execution;
			if (!testAfter && condition.l(f) == 0) {
				return Stmt.NORMAL;
			}
			while (true) {
				if (--execution.steps <= 0) {
					execution.tick(f, site);
				}
				int r = body.exec(f);
				if (r == Stmt.BREAK) {
					return Stmt.NORMAL;
				}
				if (r == Stmt.RETURN) {
					return r;
				}
				if (update != null) {
					update.exec(f);
				}
				if (condition.l(f) == 0) {
					return Stmt.NORMAL;
				}
			}
		};
	}

	private Stmt switchStatement(SwitchStatement s) {
		Ex value = expressions().convert(expressions().compile(s.getCondition()), VmType.I64);
		List<Statement> statements = s.getBody() instanceof CompoundStatement block ? block.getStatements()
				: List.of(s.getBody());
		Map<Long, Integer> cases = new HashMap<>();
		int defaultIndex = -1;
		List<Stmt> compiled = new ArrayList<>();
		fc.pushScope();
		try {
			for (Statement statement : statements) {
				if (statement instanceof CaseLabel label) {
					Long key = expressions().convert(expressions().compile(label.getValue()), VmType.I64).constant();
					if (key == null) {
						throw expressions().error(label.getValue(), "a case label must be an integer constant");
					}
					cases.put(key, compiled.size());
				} else if (statement instanceof DefaultLabel) {
					defaultIndex = compiled.size();
				} else {
					compiled.add(compile(statement));
				}
			}
		} finally {
			fc.popScope();
		}
		Stmt[] body = compiled.toArray(Stmt[]::new);
		int fallback = defaultIndex;
		return f -> {
			Integer start = cases.get(value.l(f));
			int from = start != null ? start : fallback;
			if (from < 0) {
				return Stmt.NORMAL;
			}
			for (int i = from; i < body.length; i++) {
				int r = body[i].exec(f);
				if (r == Stmt.BREAK) {
					return Stmt.NORMAL;
				}
				if (r != Stmt.NORMAL) {
					return r;
				}
			}
			return Stmt.NORMAL;
		};
	}

	private Stmt returnStatement(ReturnStatement r) {
		if (r.getValue() == null) {
			return f -> Stmt.RETURN;
		}
		Ex value = expressions().convert(expressions().compile(r.getValue()), fc.returnType);
		return switch (value.type.kind()) {
		case DOUBLE -> f -> {
			f.returnDouble = value.d(f);
			return Stmt.RETURN;
		};
		case OBJECT -> f -> {
			f.returnObject = value.o(f);
			return Stmt.RETURN;
		};
		default -> f -> {
			f.returnLong = value.l(f);
			return Stmt.RETURN;
		};
		};
	}

	// ---------------------------------------------------------------- declarations

	Stmt declaration(Declaration declaration) {
		List<Stmt> parts = new ArrayList<>();
		boolean onChip = FunctionCompiler.isOnChip(declaration);
		for (Declarator declarator : declaration.getDeclarators()) {
			if (onChip) {
				fc.declareStatic(declaration, declarator);
				continue;
			}
			VmType type = Types.isAuto(declaration.getType()) ? deduced(declarator)
					: program.types.declared(declaration.getType(), declarator, fc);
			if (containsReference(type instanceof VmType.Reference reference ? reference.target() : type)) {
				throw new CompileError(program.site(program.site(declarator)), "'" + declarator.getName()
						+ "' is declared as a pointer to, array of or reference to a reference, which C++ does not have");
			}
			if (type instanceof VmType.Reference reference) {
				parts.add(bindReference(declaration, declarator, reference.target()));
				continue;
			}
			if (type instanceof VmType.Array array && array.length() == 0
					&& declarator.getInitializer() instanceof InitializerList list) {
				type = new VmType.Array(array.element(), list.getElements().size());
			}
			Long constant = constantInitializer(declaration, declarator, type);
			if (constant != null) {
				fc.declareConstant(declarator.getName(), type, constant);
				continue;
			}
			Var var = fc.declareLocal(declarator.getName(), type, fc.isAddressTaken(declarator.getName()));
			parts.add(allocationAndInitialization(var, declaration, declarator));
		}
		Stmt[] compiled = parts.toArray(Stmt[]::new);
		if (compiled.length == 0) {
			return NOTHING;
		}
		return compiled.length == 1 ? compiled[0] : f -> {
			for (Stmt s : compiled) {
				s.exec(f);
			}
			return Stmt.NORMAL;
		};
	}

	/**
	 * The type of an {@code auto} declarator, from its initializer as C++ deduces it: the initializer's type
	 * with arrays decayed to pointers, less one pointer per {@code *} written ({@code auto* p = x;}), then the
	 * declarator's own pointers and reference ({@code const auto& v = x[i];} is a reference to an element).
	 */
	private VmType deduced(Declarator declarator) {
		Expression initializer = FunctionCompiler.boundPlace(declarator);
		if (initializer == null || !declarator.getDimensions().isEmpty()) {
			throw new CompileError(program.site(program.site(declarator)), "'auto' " + declarator.getName()
					+ " needs an initializer to deduce its type from");
		}
		VmType type = expressions().compile(initializer).type;
		if (type instanceof VmType.Array array) {
			type = new VmType.Pointer(array.element());
		}
		for (PointerOperator pointer : declarator.getPointers()) {
			if (pointer.getKind().equals("*")) {
				if (!(type instanceof VmType.Pointer p)) {
					throw new CompileError(program.site(program.site(declarator)), "'auto* " + declarator.getName()
							+ "' needs a pointer initializer, not " + type.display());
				}
				type = p.target();
			}
		}
		for (PointerOperator pointer : declarator.getPointers()) {
			type = pointer.getKind().equals("&") ? new VmType.Reference(type) : new VmType.Pointer(type);
		}
		return type;
	}

	private static boolean containsReference(VmType type) {
		return switch (type) {
		case VmType.Reference r -> true;
		case VmType.Pointer p -> containsReference(p.target());
		case VmType.Array a -> containsReference(a.element());
		default -> false;
		};
	}

	/**
	 * {@code float& out = y[i];}: binds the reference, each time the declaration runs, to the place its
	 * initializer names (a variable, an element, a field, a dereference), which every use then reads and writes
	 * as a reference parameter's. A {@code const} reference to a value that is not such a place of its type
	 * ({@code const float& s = a + b;}, {@code const double& d = x[i];}) holds a copy of the value, as the
	 * temporary C++ binds it to would.
	 */
	private Stmt bindReference(Declaration declaration, Declarator declarator, VmType target) {
		Expression initializer = FunctionCompiler.boundPlace(declarator);
		String name = declarator.getName();
		if (initializer == null) {
			throw new CompileError(program.site(program.site(declarator)), "the reference '" + name
					+ "' must be initialized with the place it refers to");
		}
		Lv place = placeOf(initializer);
		if (place != null && place.type.equals(target)) {
			if (!place.addressable()) {
				throw new CompileError(program.site(program.site(declarator)), "the virtual device cannot bind the "
						+ "reference '" + name + "' to '" + ExpressionCompiler.text(initializer) + "', a part of a "
						+ "register value without an address: use a pointer or a copy");
			}
			int slot = fc.declareReference(name, target).slot();
			return f -> {
				f.l[slot] = place.prepare(f);
				return Stmt.NORMAL;
			};
		}
		if (!isConst(declaration)) {
			throw new CompileError(program.site(program.site(declarator)), "the reference '" + name + "' must bind to a "
					+ "variable, an element or a field of type " + target.display() + ", not '"
					+ ExpressionCompiler.text(initializer) + "'");
		}
		Var copy = fc.declareLocal(name, target, fc.isAddressTaken(name));
		return allocationAndInitialization(copy, declaration, declarator);
	}

	/** The place {@code e} names, or null when it is a value that is not a place. */
	private Lv placeOf(Expression e) {
		try {
			return expressions().lvalue(e);
		} catch (CompileError notAPlace) {
			return null;
		}
	}

	private static boolean isConst(Declaration declaration) {
		return declaration.getSpecifiers().stream().anyMatch(s -> s instanceof org.xpiler.lang.kernel.Specifier q
				&& (q.getName().equals("const") || q.getName().equals("constexpr")));
	}

	/** The value of {@code const int K = 256;}, or null when the variable is not such a constant. */
	Long constantInitializer(Declaration declaration, Declarator declarator, VmType type) {
		if (!isConst(declaration) || !VmType.isInteger(type) || !(type instanceof VmType.Scalar)
				|| !(declarator.getInitializer() instanceof Expression initializer)
				|| fc.isAddressTaken(declarator.getName())) {
			return null;
		}
		try {
			return expressions().convert(expressions().compile(initializer), type).constant();
		} catch (CompileError notConstant) {
			return null;
		}
	}

	private Stmt allocationAndInitialization(Var var, Declaration declaration, Declarator declarator) {
		int site = program.site(declarator);
		Lv place = expressions().variable(var, site);
		Stmt init = initialize(place, declarator, site);
		if (var.storage() == Storage.MEMORY) {
			int slot = var.slot();
			int bytes = Math.max(1, var.type().size());
			int alignment = alignment(declaration, declarator, var.type());
			String name = declarator.getName();
			return f -> {
				if (f.l[slot] == 0) {
					f.l[slot] = f.memory.allocate(name, Space.LOCAL, bytes, alignment, false);
				}
				return init.exec(f);
			};
		}
		if (var.type().kind() == VmType.Kind.OBJECT && declarator.getInitializer() == null
				&& declarator.getConstructorArgs().isEmpty()) {
			int slot = var.slot();
			int bytes = var.type().size();
			return f -> {
				f.o[slot] = new byte[bytes];
				return Stmt.NORMAL;
			};
		}
		return init;
	}

	/** The initialization of a file-scope variable. */
	Stmt initializeStatic(Var var, Declarator declarator) {
		int site = program.site(declarator);
		return initialize(expressions().variable(var, site), declarator, site);
	}

	private Stmt initialize(Lv place, Declarator declarator, int site) {
		if (!declarator.getConstructorArgs().isEmpty()) {
			List<Ex> args = declarator.getConstructorArgs().stream().map(expressions()::compile).toList();
			Ex value = expressions().calls.construct(place.type, args, site);
			Ex store = ExpressionCompiler.store(place, value);
			return f -> {
				store.run(f);
				return Stmt.NORMAL;
			};
		}
		Initializer initializer = declarator.getInitializer();
		if (initializer == null) {
			return NOTHING;
		}
		if (initializer instanceof InitializerList list) {
			return listInitializer(place, list, site);
		}
		Ex value = expressions().compile((Expression) initializer);
		Ex store = ExpressionCompiler.store(place, convertForInitialization(value, place.type, declarator));
		return f -> {
			store.run(f);
			return Stmt.NORMAL;
		};
	}

	private Ex convertForInitialization(Ex value, VmType type, Declarator declarator) {
		try {
			return expressions().convert(value, type);
		} catch (CompileError e) {
			throw new CompileError(program.site(program.site(declarator)), e.getMessage() + " in the initialization of '"
					+ declarator.getName() + "'");
		}
	}

	/** {@code = {1, 2, 3}}: the listed elements in order, the rest zero (as C does). */
	private Stmt listInitializer(Lv place, InitializerList list, int site) {
		VmType type = place.type;
		if (type instanceof VmType.Array array) {
			return arrayInitializer(place, array, new Cursor(list.getElements()), site);
		}
		List<Ex> args = list.getElements().stream().map(e -> expressions().compile((Expression) e)).toList();
		Ex value = args.size() == 1 && type.kind() != VmType.Kind.OBJECT ? expressions().convert(args.get(0), type)
				: expressions().calls.construct(type, args, site);
		Ex store = ExpressionCompiler.store(place, value);
		return f -> {
			store.run(f);
			return Stmt.NORMAL;
		};
	}

	/** The items of an initializer list in order; an elided inner brace reads on from the same cursor. */
	private static final class Cursor {
		private final List<Initializer> items;
		private int next;

		Cursor(List<Initializer> items) {
			this.items = items;
		}

		Initializer peek() {
			return next < items.size() ? items.get(next) : null;
		}

		Initializer take() {
			return next < items.size() ? items.get(next++) : null;
		}
	}

	/**
	 * The elements of {@code array} from {@code items}: an inner list initializes one element; an element that
	 * is itself an array takes the values that follow when they are not braced ({@code {1, 2, 3, 4}} for a
	 * 2 x 2 array, C's brace elision); elements left without a value are zero ({@code {{0.0f}}}, {@code {}}).
	 */
	private Stmt arrayInitializer(Lv place, VmType.Array array, Cursor items, int site) {
		List<Stmt> stores = new ArrayList<>();
		for (int i = 0; i < array.length(); i++) {
			long offset = (long) i * array.element().size();
			Ex address = new Ex(new VmType.Pointer(array.element())) {
				@Override
				long l(Frame f) {
					return place.prepare(f) + offset;
				}
			};
			Lv element = MemoryPlace.at(address, array.element(), site);
			if (items.peek() instanceof InitializerList inner) {
				items.take();
				stores.add(listInitializer(element, inner, site));
			} else if (array.element() instanceof VmType.Array innerArray) {
				stores.add(arrayInitializer(element, innerArray, items, site));
			} else {
				Initializer item = items.take();
				Ex value = item != null ? expressions().compile((Expression) item) : zero(array.element());
				Ex store = ExpressionCompiler.store(element, expressions().convert(value, array.element()));
				stores.add(f -> {
					store.run(f);
					return Stmt.NORMAL;
				});
			}
		}
		Stmt[] all = stores.toArray(Stmt[]::new);
		return f -> {
			for (Stmt s : all) {
				s.exec(f);
			}
			return Stmt.NORMAL;
		};
	}

	private static Ex zero(VmType type) {
		return type.kind() == VmType.Kind.DOUBLE ? Ex.constant(type, 0.0) : Ex.constant(type, 0L);
	}

	/** alignas(N) or __attribute__((aligned(N))), else what x86-64 and the GPUs give an array: 16 bytes. */
	private int alignment(Declaration declaration, Declarator declarator, VmType type) {
		for (var specifier : declaration.getSpecifiers()) {
			if (specifier instanceof AlignAs alignAs) {
				return (int) program.constantValue(alignAs.getAlignment(), fc.bindings);
			}
		}
		for (GnuAttribute attribute : declarator.getAttributes()) {
			for (AttributeItem item : attribute.getItems()) {
				if (item.getName().equals("aligned") && !item.getArgs().isEmpty()) {
					return (int) program.constantValue(item.getArgs().get(0), fc.bindings);
				}
			}
		}
		return type.size() >= 16 ? Math.max(16, type.align()) : Math.max(1, type.align());
	}
}
