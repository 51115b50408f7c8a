package org.xpiler.core.vm;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.xpiler.core.vm.VmType.Scalar;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.PointerOperator;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.Unary;

/**
 * Compiles one function of a kernel file (or an intrinsic's catalog reference body) into closures: assigns
 * every local a register slot of its kind, or memory when its address is taken or it is an array, and hands
 * statements and expressions to {@link StatementCompiler} and {@link ExpressionCompiler}.
 */
final class FunctionCompiler {
	final Program program;
	final Map<String, VmType> bindings;
	final ExpressionCompiler expressions;
	final StatementCompiler statements;
	private final Deque<Map<String, Var>> scopes = new ArrayDeque<>();
	private final Set<String> addressTaken = new HashSet<>();
	private final List<Integer> arraySlots = new ArrayList<>();
	/** Macro parameters being expanded: name to the argument text's model, compiled in the caller's scope. */
	final Deque<Map<String, Expression>> macroArguments = new ArrayDeque<>();
	int longSlots;
	int doubleSlots;
	int objectSlots;
	VmType returnType = VmType.VOID;
	CompiledFunction function;

	/** How a name is stored. */
	enum Storage {
		/** a register slot of the type's kind */
		REGISTER,
		/** {@code l[slot]} holds the address of the variable's memory (arrays, address-taken scalars) */
		MEMORY,
		/** {@code lane.statics[slot]} holds the address (file scope, {@code __shared__}, {@code __nram__}) */
		STATIC,
		/** a {@code const} scalar with a constant initializer: its value is folded in (slot unused) */
		CONSTANT
	}

	record Var(String name, VmType type, Storage storage, int slot, long constant) {
		Var(String name, VmType type, Storage storage, int slot) {
			this(name, type, storage, slot, 0);
		}
	}

	FunctionCompiler(Program program, Map<String, VmType> bindings) {
		this.program = program;
		this.bindings = bindings;
		this.expressions = new ExpressionCompiler(this);
		this.statements = new StatementCompiler(this);
		scopes.push(new HashMap<>());
	}

	/** Compiles a user function; {@code target} is registered before the body so recursion resolves. */
	void compile(FunctionDefinition definition, CompiledFunction target) {
		this.function = target;
		collectAddressTaken(definition.getBody());
		returnType = program.types.base(definition.getReturnType(), bindings);
		for (int i = 0; i < definition.getReturnPointers().size(); i++) {
			returnType = new VmType.Pointer(returnType);
		}
		target.returnType = returnType;
		List<CompiledFunction.Slot> parameters = new ArrayList<>();
		for (Parameter p : definition.getParams()) {
			VmType type = program.types.declared(p.getType(), p.getDeclarator(), this);
			if (type instanceof VmType.Array array) {
				type = new VmType.Pointer(array.element()); // a parameter declared as an array is a pointer
			}
			if (type instanceof VmType.Void) {
				continue;
			}
			String name = p.getDeclarator().getName() == null ? "__unnamed" + parameters.size() : p.getDeclarator().getName();
			if (type instanceof VmType.Reference reference) {
				// the caller's variable: its address arrives in the slot
				Var var = declareReference(name, reference.target());
				parameters.add(new CompiledFunction.Slot(name, type, var.slot(), false));
				continue;
			}
			Var var = declareLocal(name, type, addressTaken.contains(name));
			parameters.add(new CompiledFunction.Slot(name, type, var.slot(), var.storage() == Storage.MEMORY));
		}
		target.parameters = List.copyOf(parameters);
		target.body = statements.block(definition.getBody().getStatements(), false);
		finish(target);
	}

	void finish(CompiledFunction target) {
		target.longSlots = longSlots;
		target.doubleSlots = doubleSlots;
		target.objectSlots = objectSlots;
		target.arraySlots = arraySlots.stream().mapToInt(Integer::intValue).toArray();
	}

	/** Compiles an expression outside any function: array sizes, template arguments. */
	Ex constantExpression(Expression expression) {
		return expressions.compile(expression);
	}

	void collectAddressTaken(EObject root) {
		if (root == null) {
			return;
		}
		root.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call call && call.getCallee() instanceof Name callee) {
				// a variable passed to a reference parameter must live in memory, as one whose address is taken
				for (FunctionDefinition f : program.functions.getOrDefault(callee.getName(), List.of())) {
					for (int i = 0; i < Math.min(f.getParams().size(), call.getArgs().size()); i++) {
						if (Calls.isReference(f.getParams().get(i)) && call.getArgs().get(i) instanceof Name argument) {
							addressTaken.add(argument.getName());
						}
					}
				}
			}
			if (o instanceof Unary unary && "&".equals(unary.getOp())) {
				Expression operand = unary.getOperand();
				while (operand instanceof Parenthesized p) {
					operand = p.getExpression();
				}
				if (operand instanceof Name name) {
					addressTaken.add(name.getName());
				}
			}
			if (o instanceof Declarator declarator && declaresReference(declarator)) {
				// a variable (or a field of one) that a reference local binds to must live in memory
				if (variableOf(boundPlace(declarator)) instanceof Name name) {
					addressTaken.add(name.getName());
				}
			}
		});
	}

	/** Whether the declarator declares a reference ({@code float& r}, {@code float*& p}), not a pointer to one. */
	static boolean declaresReference(Declarator declarator) {
		List<PointerOperator> pointers = declarator.getPointers();
		return !pointers.isEmpty() && pointers.get(pointers.size() - 1).getKind().equals("&");
	}

	/** The variable whose storage {@code place} is (a name, or the struct of a field), else {@code place} itself. */
	private static Expression variableOf(Expression place) {
		if (place instanceof Parenthesized p) {
			return variableOf(p.getExpression());
		}
		if (place instanceof MemberAccess access && !access.isArrow()) {
			return variableOf(access.getTarget());
		}
		return place;
	}

	/** The expression a reference declarator binds to: {@code = place} or {@code (place)}; null when there is none. */
	static Expression boundPlace(Declarator declarator) {
		if (declarator.getInitializer() instanceof Expression initializer) {
			return initializer;
		}
		return declarator.getConstructorArgs().size() == 1 ? declarator.getConstructorArgs().get(0) : null;
	}

	// ---------------------------------------------------------------- scopes

	void pushScope() {
		scopes.push(new HashMap<>());
	}

	void popScope() {
		scopes.pop();
	}

	Var lookup(String name) {
		for (Map<String, Var> scope : scopes) {
			Var var = scope.get(name);
			if (var != null) {
				return var;
			}
		}
		Integer global = program.globalIndex.get(name);
		if (global != null) {
			Program.StaticVariable s = program.statics.get(global);
			// a file-scope constant folds like a local one (so it can size an array), unless its address is taken
			Long constant = addressTaken.contains(name) ? null : program.fileConstant(global);
			return constant != null ? new Var(name, s.type(), Storage.CONSTANT, -1, constant)
					: new Var(name, s.type(), Storage.STATIC, global);
		}
		return null;
	}

	/**
	 * A new local: registers for scalars and aggregates of numbers, memory for arrays, structs with other members
	 * (their arrays and pointers are read in place) and whatever has its address taken.
	 */
	Var declareLocal(String name, VmType type, boolean inMemory) {
		Var var;
		if (type instanceof VmType.Array || type instanceof VmType.Struct struct && !struct.scalarFields() || inMemory) {
			int slot = longSlots++;
			arraySlots.add(slot);
			var = new Var(name, type, Storage.MEMORY, slot);
		} else {
			int slot = switch (type.kind()) {
			case DOUBLE -> doubleSlots++;
			case OBJECT -> objectSlots++;
			default -> longSlots++;
			};
			var = new Var(name, type, Storage.REGISTER, slot);
		}
		scopes.peek().put(name, var);
		return var;
	}

	/**
	 * A reference, parameter or local: {@code l[slot]} holds the address of the place it is bound to, which
	 * every use reads and writes through and which it does not own (so it is not released on return).
	 */
	Var declareReference(String name, VmType target) {
		Var var = new Var(name, target, Storage.MEMORY, longSlots++);
		scopes.peek().put(name, var);
		return var;
	}

	/** A {@code const} integer local whose value is known: uses of it compile to the constant. */
	Var declareConstant(String name, VmType type, long value) {
		Var var = new Var(name, type, Storage.CONSTANT, -1, value);
		scopes.peek().put(name, var);
		return var;
	}

	boolean isAddressTaken(String name) {
		return addressTaken.contains(name);
	}

	/** A local {@code __shared__}/{@code __nram__} declaration: a static of the block or task. */
	Var declareStatic(Declaration declaration, Declarator declarator) {
		VmType type = program.types.declared(declaration.getType(), declarator, this);
		int index = program.addStatic(declaration, declarator, type, false);
		Program.StaticVariable s = program.statics.get(index);
		Var var = new Var(declarator.getName(), s.type(), Storage.STATIC, index);
		scopes.peek().put(declarator.getName(), var);
		return var;
	}

	static boolean isOnChip(Declaration declaration) {
		return declaration.getSpecifiers().stream().anyMatch(s -> s instanceof Specifier q && switch (q.getName()) {
		case "__shared__", "__nram__", "__wram__", "__mlu_shared__", "__ldram__" -> true;
		default -> false;
		});
	}

	static boolean isDeclarationStatement(Statement statement) {
		return statement instanceof DeclarationStatement;
	}

	VmType scalar(ElementType element) {
		return new Scalar(element);
	}
}
