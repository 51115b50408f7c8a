package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BoolLiteral;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CharLiteral;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.CxxCast;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FloatLiteral;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.PointerOperator;
import org.xpiler.lang.kernel.SizeOf;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.parsing.MacroDefinition;

/**
 * Reference substitution: each use of a C++ reference local ({@code float& out = output[i];}) becomes the place
 * the reference is bound to, and its declaration goes. Kernels written by hand bind the element a loop nest
 * accumulates into, or the inputs it reads, to references; the analyses that read array accesses (the program
 * annotation's classification, loop expansion, the tensorize passes) then see a local name where the element
 * is, and read a convolution or a matrix product as "other". After the substitution they see the element.
 *
 * <pre>
 * before: for (int ow = 0; ow &lt; 12; ++ow) {
 *             float&amp; out = output[(f * 12 + oh) * 12 + ow];
 *             out = 0.0f;
 *             for (int c = 0; c &lt; 8; ++c)
 *                 out += input[(c * 12 + oh) * 12 + ow] * weight[f * 8 + c];
 *         }
 * after:  for (int ow = 0; ow &lt; 12; ++ow) {
 *             output[(f * 12 + oh) * 12 + ow] = 0.0f;
 *             for (int c = 0; c &lt; 8; ++c)
 *                 output[(f * 12 + oh) * 12 + ow] += input[(c * 12 + oh) * 12 + ow] * weight[f * 8 + c];
 *         }
 * </pre>
 *
 * The substitution is exact when the place names, at every use, the object it named at the binding. So a
 * reference is substituted only when all of these hold (otherwise it stays as it is, which the targets and the
 * virtual device accept):
 * <ul>
 * <li>it is the only declarator of a declaration statement in a block (not a loop header), bound to a place:
 * a variable {@code v}, an element {@code p[i]} (or {@code a[i][j]} of an array declared with as many
 * dimensions), a dereference {@code *p}, a field {@code s.f}, {@code p[i].f} or {@code p->f};</li>
 * <li>finding the place's address reads no memory and has no side effects: its subscripts are arithmetic on
 * names and constants (object-like macros of constants included);</li>
 * <li>none of the variables the address is computed from (the pointer, the subscripts' names) is assigned,
 * incremented or declared again in the statements that follow the declaration in its block, nor has its
 * address taken, a non-const reference bound to it or is passed to a reference parameter anywhere in the
 * function, nor is a reference itself; a variable of the file that is not {@code const} is not used when those
 * statements call a function of the file; neither the place's variable nor the reference is declared again
 * there;</li>
 * <li>a {@code const} reference names a variable or element of exactly its own type: of another type, C++
 * binds it to a converted copy, which the place is not.</li>
 * </ul>
 * Knobs: none (the knob values count the references substituted and those kept). Precondition: sequential C++
 * with a reference local that qualifies.
 */
public final class ReferenceSubstitution implements Pass {
	/** Numeric literals, with their suffixes: what may remain of a constant macro's body is punctuation. */
	private static final Pattern NUMBER = Pattern.compile("\\b\\d[\\w.]*");
	private static final Set<String> ARITHMETIC_UNARY_OPS = Set.of("-", "+", "!", "~");

	@Override
	public String name() {
		return "reference-substitution";
	}

	@Override
	public String summary() {
		return "replace the uses of each reference local by the variable or element it is bound to";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			return Optional.of("substitutes reference locals of sequential C++ only");
		}
		List<Declarator> references = references(unit);
		if (references.isEmpty()) {
			return Optional.of("no reference local");
		}
		String firstObstacle = null;
		for (Declarator reference : references) {
			String obstacle = obstacle(reference, unit);
			if (obstacle == null) {
				return Optional.empty();
			}
			firstObstacle = firstObstacle == null ? obstacle : firstObstacle;
		}
		return Optional.of(firstObstacle);
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		int substituted = 0;
		// one at a time: a substitution changes what the later references' places read
		for (Declarator reference = next(unit); reference != null; reference = next(unit)) {
			substitute(reference);
			substituted++;
		}
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("substituted", Integer.toString(substituted));
		knobs.put("kept", Integer.toString(references(unit).size()));
		return knobs;
	}

	/** The first reference that qualifies, or null. */
	private static Declarator next(TranslationUnit unit) {
		return references(unit).stream().filter(r -> obstacle(r, unit) == null).findFirst().orElse(null);
	}

	/** Every reference declared in a function body or loop header, in the file's order (parameters left out). */
	private static List<Declarator> references(TranslationUnit unit) {
		return EcoreUtil2.eAllOfType(unit, Declarator.class).stream()
				.filter(d -> isReference(d) && d.eContainer() instanceof Declaration declaration
						&& (declaration.eContainer() instanceof DeclarationStatement
								|| declaration.eContainer() instanceof ForStatement))
				.toList();
	}

	/** {@code float& r}, {@code float*& p}: the declarator's last operator is {@code &}. */
	private static boolean isReference(Declarator declarator) {
		List<PointerOperator> pointers = declarator.getPointers();
		return !pointers.isEmpty() && pointers.get(pointers.size() - 1).getKind().equals("&");
	}

	/** The expression a reference is bound to ({@code = place} or {@code (place)}), or null. */
	private static Expression boundPlace(Declarator reference) {
		if (reference.getInitializer() instanceof Expression initializer) {
			return initializer;
		}
		return reference.getConstructorArgs().size() == 1 ? reference.getConstructorArgs().get(0) : null;
	}

	/**
	 * A place a reference can stand for: the variable it is in, how many subscripts or dereferences reach it
	 * from that variable, whether it is a field, and the variables whose values its address is computed from.
	 */
	private record Place(String variable, int levels, boolean field, Set<String> addressVariables) {
		/** The place {@code e} names when finding its address reads no memory, else null. */
		static Place of(Expression e) {
			Expression place = Snippets.unparenthesized(e);
			if (place instanceof Name name) {
				return new Place(name.getName(), 0, false, Set.of());
			}
			if (place instanceof Index index) {
				Place target = of(index.getTarget());
				if (target == null || target.field() || !isArithmetic(index.getIndex())) {
					return null;
				}
				Set<String> variables = new LinkedHashSet<>(target.addressVariables());
				variables.add(target.variable());
				EcoreUtil2.eAllOfType(index.getIndex(), Name.class).forEach(n -> variables.add(n.getName()));
				return new Place(target.variable(), target.levels() + 1, false, variables);
			}
			if (place instanceof Unary unary && unary.getOp().equals("*")
					&& Snippets.unparenthesized(unary.getOperand()) instanceof Name pointer) {
				return new Place(pointer.getName(), 1, false, Set.of(pointer.getName()));
			}
			if (place instanceof MemberAccess access && access.isArrow()) {
				return Snippets.unparenthesized(access.getTarget()) instanceof Name pointer
						? new Place(pointer.getName(), 1, true, Set.of(pointer.getName()))
						: null;
			}
			if (place instanceof MemberAccess access) {
				Place target = of(access.getTarget());
				return target == null ? null : new Place(target.variable(), target.levels(), true, target.addressVariables());
			}
			return null;
		}

		/** Whether {@code e} computes a value from names and constants alone: no memory read, call or write. */
		private static boolean isArithmetic(Expression e) {
			return EcoreUtil2.eAllOfType(e, Expression.class).stream().allMatch(x -> x instanceof Name || x instanceof IntLiteral || x instanceof FloatLiteral
					|| x instanceof CharLiteral || x instanceof BoolLiteral || x instanceof Binary
					|| x instanceof Conditional || x instanceof Parenthesized || x instanceof Cast || x instanceof CxxCast
					|| x instanceof SizeOf || x instanceof Unary u && ARITHMETIC_UNARY_OPS.contains(u.getOp()));
		}
	}

	/** Why the uses of {@code reference} cannot become its place ({@code line N: ...}), or null when they can. */
	private static String obstacle(Declarator reference, TranslationUnit unit) {
		String name = "'" + reference.getName() + "'";
		Declaration declaration = (Declaration) reference.eContainer();
		if (!(declaration.eContainer() instanceof DeclarationStatement statement
				&& statement.eContainer() instanceof CompoundStatement block)) {
			return refused(reference, name + " is declared in a loop header");
		}
		if (declaration.getDeclarators().size() > 1) {
			return refused(reference, name + " is declared together with other variables");
		}
		Expression bound = boundPlace(reference);
		Place place = bound == null ? null : Place.of(bound);
		if (place == null) {
			return refused(reference, name + " is not bound to a variable, element or field whose address is found "
					+ "without reading memory");
		}
		Declarator variable = Snippets.visibleDeclaration(place.variable(), statement);
		if (variable == null) {
			return refused(reference, name + " is bound into '" + place.variable() + "', which is not a variable");
		}
		if (place.levels() > Math.max(1, variable.getDimensions().size())) {
			return refused(reference, "finding the element " + name + " is bound to reads a pointer from memory");
		}
		if (isConst(declaration) && !sameType(reference, declaration.getType(), variable, place)) {
			return refused(reference, "the const reference " + name + " may be bound to a converted copy: its type is "
					+ "not the one of '" + place.variable() + "' as subscripted");
		}
		List<Statement> following = block.getStatements().subList(block.getStatements().indexOf(statement) + 1,
				block.getStatements().size());
		Set<String> mustKeepMeaning = new LinkedHashSet<>(place.addressVariables());
		mustKeepMeaning.add(place.variable());
		mustKeepMeaning.add(reference.getName());
		for (String redeclared : mustKeepMeaning) {
			EObject again = firstIn(following, o -> o instanceof Declarator d && redeclared.equals(d.getName()));
			if (again != null) {
				return refused(reference, "'" + redeclared + "' is declared again (" + Snippets.location(again) + ") in the "
						+ "scope of " + name);
			}
		}
		FunctionDefinition function = EcoreUtil2.getContainerOfType(block, FunctionDefinition.class);
		for (String addressVariable : place.addressVariables()) {
			String changed = changeable(addressVariable, statement, following, function, unit);
			if (changed != null) {
				return refused(reference, "the address " + name + " is bound to depends on " + changed);
			}
		}
		return null;
	}

	private static String refused(Declarator reference, String why) {
		return Snippets.location(reference) + ": " + why;
	}

	/**
	 * How {@code variable}'s value may change in the statements {@code following} the binding at {@code binding}
	 * (the reason, naming the line), or null when it cannot.
	 */
	private static String changeable(String variable, Statement binding, List<Statement> following,
			FunctionDefinition function, TranslationUnit unit) {
		String name = "'" + variable + "'";
		Declarator declaration = Snippets.visibleDeclaration(variable, binding);
		if (declaration == null) {
			return isConstantMacro(variable, unit) ? null : name + ", which is neither a variable nor a constant macro";
		}
		if (isReference(declaration)) {
			return name + ", itself a reference";
		}
		EObject write = firstIn(following, o -> CanonicalLoop.writeTarget(o) instanceof Expression target
				&& Snippets.isName(target, variable));
		if (write != null) {
			return name + ", which " + Snippets.location(write) + " assigns";
		}
		EObject aliasing = firstIn(List.of(function.getBody()), o -> aliases(o, variable, unit));
		if (aliasing != null) {
			return name + ", which " + Snippets.location(aliasing) + " lets other code write";
		}
		boolean fileVariable = EcoreUtil2.getContainerOfType(declaration, FunctionDefinition.class) == null
				&& !(declaration.eContainer() instanceof Declaration d && isConst(d));
		EObject call = fileVariable ? firstIn(following, o -> o instanceof Call c
				&& Snippets.definedFunctions(unit).stream().anyMatch(f -> f.getName().equals(Snippets.callee(c)))) : null;
		if (call != null) {
			return name + ", a variable of the file, and " + Snippets.location(call) + " calls a function of the file";
		}
		return null;
	}

	/**
	 * Whether {@code o} makes {@code variable} writable through another name: takes its address, binds a
	 * non-const reference to it, or passes it to a reference parameter of a function of the file.
	 */
	private static boolean aliases(EObject o, String variable, TranslationUnit unit) {
		if (o instanceof Unary unary && unary.getOp().equals("&")) {
			return isVariable(unary.getOperand(), variable);
		}
		if (o instanceof Declarator d && isReference(d) && d.eContainer() instanceof Declaration declaration
				&& !isConst(declaration)) {
			return isVariable(boundPlace(d), variable);
		}
		if (o instanceof Call call) {
			for (FunctionDefinition f : Snippets.definedFunctions(unit)) {
				if (!f.getName().equals(Snippets.callee(call))) {
					continue;
				}
				for (int k = 0; k < Math.min(f.getParams().size(), call.getArgs().size()); k++) {
					if (isReference(f.getParams().get(k).getDeclarator()) && isVariable(call.getArgs().get(k), variable)) {
						return true;
					}
				}
			}
		}
		return false;
	}

	/** Whether {@code place} is the storage of {@code variable}: the name, or a field of it. */
	private static boolean isVariable(Expression place, String variable) {
		Expression e = place == null ? null : Snippets.unparenthesized(place);
		while (e instanceof MemberAccess access && !access.isArrow()) {
			e = Snippets.unparenthesized(access.getTarget());
		}
		return e instanceof Name n && n.getName().equals(variable);
	}

	/** The first node in {@code roots} (themselves included) that {@code test} accepts, or null. */
	private static EObject firstIn(List<? extends EObject> roots, Predicate<EObject> test) {
		for (EObject root : roots) {
			if (test.test(root)) {
				return root;
			}
			for (var it = root.eAllContents(); it.hasNext();) {
				EObject o = it.next();
				if (test.test(o)) {
					return o;
				}
			}
		}
		return null;
	}

	/** Whether the file defines {@code name} as an object-like macro of a constant ({@code #define N 64}). */
	private static boolean isConstantMacro(String name, TranslationUnit unit) {
		return EcoreUtil2.eAllOfType(unit, Directive.class).stream()
				.map(d -> MacroDefinition.of(d.getText()).orElse(null))
				.anyMatch(d -> d != null && d.name().equals(name) && d.parameters() == null
						&& NUMBER.matcher(d.body()).replaceAll("").chars().noneMatch(Character::isLetter));
	}

	private static boolean isConst(Declaration declaration) {
		return declaration.getSpecifiers().stream().anyMatch(s -> s instanceof Specifier q
				&& (q.getName().equals("const") || q.getName().equals("constexpr")));
	}

	/** Whether the reference's type is that of the variable's {@code place}: same base type, same pointer depth. */
	private static boolean sameType(Declarator reference, TypeSpecifier referenceType, Declarator variable, Place place) {
		TypeSpecifier variableType = Snippets.declaredType(variable);
		return !place.field() && variableType != null && EcoreUtil.equals(referenceType, variableType)
				&& stars(variable) + variable.getDimensions().size() - place.levels() == stars(reference);
	}

	private static long stars(Declarator declarator) {
		return declarator.getPointers().stream().filter(p -> p.getKind().equals("*")).count();
	}

	/** Every use of the reference in its scope becomes a copy of its place; the declaration goes. */
	private static void substitute(Declarator reference) {
		DeclarationStatement statement = (DeclarationStatement) reference.eContainer().eContainer();
		CompoundStatement block = (CompoundStatement) statement.eContainer();
		Expression place = Snippets.unparenthesized(boundPlace(reference));
		List<Statement> following = block.getStatements().subList(block.getStatements().indexOf(statement) + 1,
				block.getStatements().size());
		List<Name> uses = new ArrayList<>();
		for (Statement s : following) {
			uses.addAll(EcoreUtil2.eAllOfType(s, Name.class).stream().filter(n -> n.getName().equals(reference.getName()))
					.toList());
		}
		for (Name use : uses) {
			EcoreUtil.replace(use, standIn(place));
		}
		block.getStatements().remove(statement);
	}

	/** A copy of {@code place} to put where the reference was: a dereference goes in parentheses ({@code (*p).x}). */
	private static Expression standIn(Expression place) {
		Expression copy = EcoreUtil.copy(place);
		if (!(copy instanceof Unary)) {
			return copy;
		}
		Parenthesized parenthesized = KernelFactory.eINSTANCE.createParenthesized();
		parenthesized.setExpression(copy);
		return parenthesized;
	}
}
