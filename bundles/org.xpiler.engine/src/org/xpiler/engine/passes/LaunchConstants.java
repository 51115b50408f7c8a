package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.InitializerList;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.parsing.MacroDefinition;
import org.xpiler.lang.parsing.Namespaces;

/**
 * The compile-time values of a host wrapper, which size its launches and scratch buffers: the file's
 * macros ({@code #define N 4096}, {@code #define CEIL_DIV(a, b) ...}) and constants
 * ({@code const int ROWS = 48;}, also by qualified name in a namespace), the named constants of the dialect's catalog ({@code CNRT_FUNC_TYPE_UNION1}), the wrapper's scalars that are initialized with a constant and never written
 * again, and its launch dimensions: {@code dim3 grid(n / 256);}, {@code dim3 grid = dim3(8, 2);},
 * {@code cnrtDim3_t dim = {16, 1, 1};}, or a dimension declared bare and set member by member at the top of the
 * wrapper ({@code dim.x = 16; dim.y = 1; dim.z = 1;}). Members of a dimension fold too ({@code block.x}).
 * The same reading serves a kernel body (a shuffle width, a shared array size). A name that two declarations
 * give different values (the variables of two scopes) is not a constant.
 */
final class LaunchConstants {
	private static final Set<String> DIMENSION_TYPES = Set.of("dim3", "cnrtDim3_t");

	private final ConstantFolder folder = new ConstantFolder();
	private final Map<String, int[]> dimensions = new HashMap<>();
	/** The declarations of the dimensions, which only the launches read. */
	private final List<Statement> dimensionStatements = new ArrayList<>();
	/** The members set so far of the dimensions set member by member. */
	private final Map<String, Map<String, Long>> members = new HashMap<>();
	/** What the declarations of each scalar name gave it so far: a value all agree on, else empty. */
	private final Map<String, OptionalLong> scalars = new HashMap<>();

	LaunchConstants(TranslationUnit unit, CompoundStatement body, Dialect dialect) {
		this(unit, List.of(), body, dialect);
	}

	/** The values in {@code function}, whose parameters hide the file's constants of their names. */
	LaunchConstants(TranslationUnit unit, FunctionDefinition function, Dialect dialect) {
		this(unit, function.getParams().stream().map(p -> p.getDeclarator().getName()).filter(Objects::nonNull).toList(),
				function.getBody(), dialect);
	}

	private LaunchConstants(TranslationUnit unit, List<String> parameters, CompoundStatement body, Dialect dialect) {
		dialect.catalog().constants().forEach(c -> {
			if (c.value() instanceof Number n) {
				folder.define(c.name(), n.longValue());
			}
		});
		Namespaces.forEachItem(unit.getItems(), (item, namespaces) -> {
			if (item instanceof Directive d) {
				MacroDefinition.of(d.getText()).ifPresent(this::macro);
			} else if (item instanceof Declaration d && ConstantFolder.isConstant(d)) {
				for (Declarator x : d.getDeclarators()) { // const int ROWS = 48; at file scope, cfg::ROWS in a namespace
					if (x.getPointers().isEmpty() && x.getDimensions().isEmpty() && x.getInitializer() instanceof Expression e) {
						OptionalLong value = folder.fold(e);
						Namespaces.qualifiedNames(x.getName(), namespaces).forEach(name -> declare(name, value));
					}
				}
			}
		});
		parameters.forEach(p -> declare(p, OptionalLong.empty()));
		Set<String> written = written(body);
		Set<String> setByMembers = setByMembers(body);
		// in the order of the text: a value folds with those declared before it
		body.eAllContents().forEachRemaining(o -> {
			if (o instanceof DeclarationStatement statement) {
				declaration(statement, written, setByMembers);
			} else if (o instanceof ForStatement loop && loop.getInitDeclaration() != null) {
				loop.getInitDeclaration().getDeclarators().forEach(x -> declare(x.getName(), OptionalLong.empty()));
			} else if (o instanceof ExpressionStatement s && s.getExpression() instanceof Assignment a
					&& a.getLeft() instanceof MemberAccess m && m.getTarget() instanceof Name n
					&& members.containsKey(n.getName())) {
				Map<String, Long> set = members.get(n.getName());
				OptionalLong value = folder.fold(a.getRight());
				if (value.isEmpty()) {
					members.remove(n.getName()); // not constant, whatever the other members hold
					undefine(n.getName());
				} else {
					set.put(m.getMember(), value.getAsLong());
					if (set.keySet().equals(Set.of("x", "y", "z"))) {
						define(n.getName(), new int[] { set.get("x").intValue(), set.get("y").intValue(),
								set.get("z").intValue() });
					}
				}
			}
		});
	}

	private void macro(MacroDefinition macro) {
		if (macro.parameters() != null) {
			folder.defineMacro(macro); // CEIL_DIV(n, 256)
			return;
		}
		OptionalLong folded = folder.valueOf(macro); // a statement macro does not size launches
		if (folded.isPresent()) {
			declare(macro.name(), folded);
		}
	}

	/** Names the wrapper assigns, increments or takes the address of after their declaration. */
	private static Set<String> written(CompoundStatement body) {
		Set<String> written = new HashSet<>();
		body.eAllContents().forEachRemaining(o -> {
			if (o instanceof Assignment a && a.getLeft() instanceof Name n) {
				written.add(n.getName());
			} else if (o instanceof Postfix p && p.getOperand() instanceof Name n) {
				written.add(n.getName());
			} else if (o instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--") || u.getOp().equals("&"))
					&& u.getOperand() instanceof Name n) {
				written.add(n.getName());
			}
		});
		return written;
	}

	/**
	 * Variables set member by member, each member once with {@code =} in a statement of the wrapper's body
	 * itself ({@code dim.x = 16;}); a variable whose members are written otherwise as well is left out.
	 */
	private static Set<String> setByMembers(CompoundStatement body) {
		Map<String, List<String>> members = new HashMap<>();
		Set<String> unfit = new HashSet<>();
		body.eAllContents().forEachRemaining(o -> {
			if (o instanceof Assignment a && a.getLeft() instanceof MemberAccess m && !m.isArrow()
					&& m.getTarget() instanceof Name n) {
				boolean statement = a.eContainer() instanceof ExpressionStatement s && s.eContainer() == body;
				List<String> set = members.computeIfAbsent(n.getName(), k -> new ArrayList<>());
				if (!statement || !a.getOp().equals("=") || set.contains(m.getMember())) {
					unfit.add(n.getName());
				}
				set.add(m.getMember());
			}
		});
		Set<String> fit = new HashSet<>(members.keySet());
		fit.removeAll(unfit);
		return fit;
	}

	private void declaration(DeclarationStatement statement, Set<String> written, Set<String> setByMembers) {
		Declaration d = statement.getDeclaration();
		boolean dimension = d.getType() instanceof NamedType t && DIMENSION_TYPES.contains(t.getName());
		if (dimension) {
			dimensionStatements.add(statement);
		}
		for (Declarator x : d.getDeclarators()) {
			if (written.contains(x.getName()) || !x.getPointers().isEmpty() || !x.getDimensions().isEmpty()) {
				declare(x.getName(), OptionalLong.empty());
				continue;
			}
			boolean bare = x.getInitializer() == null && x.getConstructorArgs().isEmpty();
			// a bare dim3 is (1, 1, 1), a bare cnrtDim3_t holds nothing until all three members are set
			boolean ones = d.getType() instanceof NamedType t && t.getName().equals("dim3");
			if (dimension && bare && setByMembers.contains(x.getName())) {
				members.put(x.getName(), ones ? new HashMap<>(Map.of("x", 1L, "y", 1L, "z", 1L)) : new HashMap<>());
			} else if (dimension && !setByMembers.contains(x.getName())) {
				int[] dims = bare && !ones ? null : dimensionOf(x);
				if (dims != null) {
					define(x.getName(), dims);
				}
			} else if (!dimension) {
				declare(x.getName(), x.getInitializer() instanceof Expression e ? folder.fold(e) : OptionalLong.empty());
			}
		}
	}

	/** A declaration of the scalar {@code name}: it folds while all its declarations agree on one value. */
	private void declare(String name, OptionalLong value) {
		OptionalLong agreed = scalars.merge(name, value, (a, b) -> a.equals(b) ? a : OptionalLong.empty());
		if (agreed.isPresent()) {
			folder.define(name, agreed.getAsLong());
		} else {
			folder.forget(name);
		}
	}

	private void define(String dimension, int[] dims) {
		dimensions.put(dimension, dims);
		for (int axis = 0; axis < 3; axis++) {
			folder.define(dimension + "." + "xyz".charAt(axis), dims[axis]); // grid(n / block.x)
		}
	}

	private void undefine(String dimension) {
		dimensions.remove(dimension);
		for (int axis = 0; axis < 3; axis++) {
			folder.forget(dimension + "." + "xyz".charAt(axis));
		}
	}

	/** The folded (x, y, z) of a dimension's initializer or constructor arguments, or null. */
	private int[] dimensionOf(Declarator x) {
		if (x.getInitializer() instanceof Call c && DIMENSION_TYPES.contains(Snippets.callee(c))) {
			return fold(c.getArgs());
		}
		if (x.getInitializer() instanceof InitializerList list) {
			List<Expression> args = new ArrayList<>();
			for (var element : list.getElements()) {
				if (!(element instanceof Expression e)) {
					return null;
				}
				args.add(e);
			}
			return fold(args);
		}
		return x.getInitializer() == null ? fold(x.getConstructorArgs()) : null;
	}

	private int[] fold(List<Expression> args) {
		int[] dims = { 1, 1, 1 };
		for (int i = 0; i < Math.min(3, args.size()); i++) {
			OptionalLong v = folder.fold(args.get(i));
			if (v.isEmpty()) {
				return null;
			}
			dims[i] = (int) v.getAsLong();
		}
		return dims;
	}

	OptionalLong value(Expression e) {
		return folder.fold(e);
	}

	/** The (x, y, z) of a launch dimension: a dimension variable, {@code dim3(...)} or an integer; null if not known. */
	int[] dimensions(Expression e) {
		if (e instanceof Name n && dimensions.containsKey(n.getName())) {
			return dimensions.get(n.getName());
		}
		if (e instanceof Call c && DIMENSION_TYPES.contains(Snippets.callee(c))) {
			return fold(c.getArgs());
		}
		OptionalLong v = folder.fold(e);
		return v.isPresent() ? new int[] { (int) v.getAsLong(), 1, 1 } : null;
	}

	/** Removes the dimensions' declarations and member assignments, once the launches that read them are gone. */
	void removeDimensions(CompoundStatement body) {
		List<EObject> assignments = new ArrayList<>();
		body.eAllContents().forEachRemaining(o -> {
			if (o instanceof ExpressionStatement s && s.getExpression() instanceof Assignment a
					&& a.getLeft() instanceof MemberAccess m && m.getTarget() instanceof Name n
					&& dimensions.containsKey(n.getName())) {
				assignments.add(s);
			}
		});
		assignments.forEach(EcoreUtil::remove);
		dimensionStatements.forEach(EcoreUtil::remove);
	}
}
