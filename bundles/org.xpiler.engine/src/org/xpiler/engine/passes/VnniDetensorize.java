package org.xpiler.engine.passes;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.nodemodel.INode;
import org.eclipse.xtext.nodemodel.util.NodeModelUtils;
import org.xpiler.lang.catalog.CatalogEntries.CatalogType;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.CatalogFunction.Signature;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.AlignAs;
import org.xpiler.lang.kernel.ArrayDimension;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.BuiltinTypeConstruction;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CommaExpression;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.CxxCast;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.Initializer;
import org.xpiler.lang.kernel.InitializerList;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.ItemBlock;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.PointerOperator;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.SizeOf;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.SwitchStatement;
import org.xpiler.lang.kernel.TemplateCall;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeName;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.WhileStatement;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Detensorize for VNNI: removes every SIMD vector type and {@code _mm*} intrinsic from C++ with AVX-512
 * intrinsics, leaving plain scalar C++ that any dialect can hold: the first step of translating such a kernel.
 * A vector variable becomes an aligned byte array of the vector's size ({@code __mmaskN} masks become
 * {@code uintN_t}); every intrinsic becomes a call of a helper function added to the file, whose body is the
 * catalog's {@code reference}: vector operands are passed as {@code const unsigned char*} and read lane by lane
 * through a cast to the operand's lane type, a vector result is computed into a local lane array and then
 * copied byte by byte into a first parameter {@code dst} (so {@code v = op(v, w)} may alias). Vector values
 * nested in an expression are computed into temporaries declared just before the statement; a vector
 * assignment is a byte copy; vector parameters of the file's own functions become byte pointers and a vector
 * result a leading {@code dst} parameter. {@code #include <immintrin.h>} goes, and the {@code _CMP_*}
 * predicates become their values. Only byte-typed stores ever write a vector's bytes, so the result also
 * keeps its meaning under g++'s strict aliasing.
 * <p>
 * A vector chosen by a scalar condition, {@code v = c ? a : b}, is {@code if (c) v = a; else v = b;} (as an
 * operand, a temporary so assigned), so that each side's vector work runs only when chosen.
 * <p>
 * Lane-wise loops are first rewritten as the scalar loops they vectorize ({@link LaneLoops}), reductions
 * included. Knob {@code sums}: {@code reassociated} (the default, first of {@link #options()}) makes a sum's
 * accumulator one float, added to element by element, which rounds otherwise than 16 lanes and a tree do and can
 * leave the oracle's tolerance over very long sums (half a million squares drift by 1e-4); {@code in lanes} keeps
 * sums' accumulators as vectors, expanded in the source's order (maxima and minima, exact either way, are floats
 * in both).
 * <p>
 * Calls of {@code <algorithm>}'s and {@code <numeric>}'s {@code std::copy}, {@code std::fill},
 * {@code std::accumulate}, {@code std::inner_product}, ... become loops as well ({@link AlgorithmLoops}), and
 * {@code std::array} variables plain arrays ({@link StdArrays}).
 * <p>
 * Precondition: the kernel is VNNI C++ whose intrinsics all have reference bodies, and whose vector values
 * are used only as intrinsic or function operands, assigned whole, initialised at their declaration, or
 * chosen by {@code ?:}; anything else (lane subscripts, pointers to vectors, vector work under a {@code ?:}
 * that is a scalar, {@code &&} or in a loop header) is refused with its line.
 *
 * <pre>
 * before: __m512 vmax = _mm512_loadu_ps(x);
 *         vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(x + i));
 * after:  static inline void mm512_max_ps(unsigned char *dst, const unsigned char *a, const unsigned char *b) {
 *             float result[16];
 *             for (int i = 0; i &lt; 16; ++i) result[i] = ((const float *)a)[i] &gt; ((const float *)b)[i] ? ...;
 *             for (int i = 0; i &lt; 64; ++i) dst[i] = ((const unsigned char *)result)[i];
 *         }
 *         ...
 *         alignas(64) unsigned char vmax[64];
 *         mm512_loadu_ps(vmax, x);
 *         alignas(64) unsigned char t0[64];
 *         mm512_loadu_ps(t0, x + i);
 *         mm512_max_ps(vmax, vmax, t0);
 * </pre>
 */
public final class VnniDetensorize implements Pass {
	/** x86 vector types: the size in bits is in the name ({@code __m512}, {@code __m256i}, {@code __m128d}). */
	private static final Pattern VECTOR_TYPE = Pattern.compile("__m(64|128|256|512)[a-z]?");
	private static final Pattern MASK_TYPE = Pattern.compile("__mmask(8|16|32|64)");
	private static final Pattern X86_HEADER = Pattern.compile("#\\s*include\\s*<\\w*intrin\\.h>");
	private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_]\\w*");
	private static final String BYTE = "unsigned char";

	/** Whether a sum's accumulator becomes one float (the additions reassociated) or stays 16 lanes. */
	private final boolean reassociateSums;

	/** @param reassociateSums whether a sum's accumulator becomes one float, added to in another order */
	public VnniDetensorize(boolean reassociateSums) {
		this.reassociateSums = reassociateSums;
	}

	public VnniDetensorize() {
		this(true);
	}

	/** The plain scalar loops first; sums in the source's order when their new order rounds too far. */
	public static List<VnniDetensorize> options() {
		return List.of(new VnniDetensorize(true), new VnniDetensorize(false));
	}

	@Override
	public String name() {
		return "detensorize";
	}

	@Override
	public String summary() {
		return "rewrite AVX-512 lane-wise loops and reductions as the scalar loops they vectorize, expand other "
				+ "vectors and intrinsics into byte arrays and scalar helper functions (the catalog's reference bodies), "
				+ "and std:: algorithms into loops";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI) {
			return Optional.of("detensorizes " + Dialect.VNNI.displayName() + " only, not " + from.displayName());
		}
		// a dry run on a copy: the same code decides and rewrites, and the copy's nodes lead back to lines
		EcoreUtil.Copier copier = new EcoreUtil.Copier();
		TranslationUnit copy = (TranslationUnit) copier.copy(unit);
		copier.copyReferences();
		Map<EObject, EObject> originals = new IdentityHashMap<>();
		copier.forEach((original, copied) -> originals.put(copied, original));
		new LaneLoops(reassociateSums).scalarize(copy);
		Expansion expansion = new Expansion(copy, originals::get);
		expansion.run();
		return expansion.problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", expansion.problems));
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI) {
			throw new IllegalArgumentException("detensorize reads " + Dialect.VNNI.displayName() + " only");
		}
		LaneLoops lanes = new LaneLoops(reassociateSums);
		int laneLoops = lanes.scalarize(unit);
		Expansion expansion = new Expansion(unit, node -> node);
		expansion.run();
		if (!expansion.problems.isEmpty()) {
			throw new IllegalStateException("detensorize cannot apply: " + String.join("; ", expansion.problems));
		}
		Map<String, String> knobs = new LinkedHashMap<>();
		if (laneLoops > 0) {
			knobs.put("lane-loops", Integer.toString(laneLoops));
		}
		if (!reassociateSums || lanes.liftedSums() > 0) {
			knobs.put("sums", reassociateSums ? "reassociated" : "in lanes");
		}
		if (!expansion.intrinsics.isEmpty()) {
			knobs.put("expanded", String.join(", ", expansion.intrinsics.keySet()));
		}
		int arrays = new StdArrays(Dialect.VNNI).flatten(unit);
		if (arrays > 0) {
			knobs.put("std-arrays", Integer.toString(arrays));
		}
		int algorithms = new AlgorithmLoops(Dialect.VNNI).expand(unit);
		if (algorithms > 0) {
			knobs.put("algorithms", Integer.toString(algorithms));
		}
		int vectorLoops = new VectorLoops().normalize(unit);
		if (vectorLoops > 0) {
			knobs.put("vector-loops", Integer.toString(vectorLoops));
		}
		return knobs;
	}

	/** The byte size of a vector type name, 0 for anything else. */
	private static int vectorBytes(String typeName) {
		if (typeName == null) {
			return 0;
		}
		Matcher m = VECTOR_TYPE.matcher(typeName.strip());
		return m.matches() ? Integer.parseInt(m.group(1)) / 8 : 0;
	}

	private static int vectorBytes(TypeSpecifier type) {
		return type == null ? 0 : vectorBytes(type.getName());
	}

	/** {@code __mmask16} is an unsigned short to g++: {@code uint16_t}; other names are kept. */
	private static String scalarTypeOf(String typeName) {
		Matcher m = MASK_TYPE.matcher(typeName == null ? "" : typeName);
		return m.matches() ? "uint" + m.group(1) + "_t" : typeName;
	}

	/** How a call passes an argument: as a value, or as the bytes of a vector. */
	private enum Operand {
		SCALAR, VECTOR
	}

	/** What a call site needs to know of a function: the name to call, its vector result and operands. */
	private record Callee(String helper, int resultBytes, List<Operand> params) {
		Operand param(int i) {
			return i < params.size() ? params.get(i) : Operand.SCALAR;
		}
	}

	/** An intrinsic in use: its helper's text and the vector parameters whose lanes the body reads. */
	private record Intrinsic(Callee callee, String text, Map<String, String> laneTypes, EObject firstUse) {
	}

	/** A variable in scope; {@code bytes} is 0 for a scalar, {@code dims} counts array dimensions of vectors. */
	private record Variable(int bytes, int dims) {
		static final Variable SCALAR = new Variable(0, 0);

		boolean vector() {
			return bytes > 0;
		}
	}

	/** One run over a unit: rewrites it in place and collects what it could not rewrite. */
	private static final class Expansion {
		private static final KernelFactory F = KernelFactory.eINSTANCE;
		private static final KernelPrinter PRINTER = Dialect.VNNI.printer();

		private final TranslationUnit unit;
		/** The node of the parsed unit a node stands for (itself in place, the original in a dry run). */
		private final Function<EObject, EObject> original;
		private final IntrinsicCatalog catalog = Dialect.VNNI.catalog();
		private final Set<String> problems = new LinkedHashSet<>();
		/** Every identifier of the file and the prelude: new names avoid them all, so nothing is shadowed. */
		private final Set<String> taken = new HashSet<>();
		private final Map<String, Callee> userFunctions = new HashMap<>();
		/** By intrinsic name, in the order of first use. */
		final Map<String, Intrinsic> intrinsics = new LinkedHashMap<>();
		private final Map<String, Variable> globals = new HashMap<>();
		private final Deque<Map<String, Variable>> scopes = new ArrayDeque<>();
		private String copyHelper;
		private int temporaries;
		/** The function being rewritten returns a vector through this parameter (else null). */
		private String resultTarget;
		private int resultBytes;

		Expansion(TranslationUnit unit, Function<EObject, EObject> original) {
			this.unit = unit;
			this.original = original;
		}

		void run() {
			collectNames();
			unit.getItems().removeIf(item -> item instanceof Directive d && X86_HEADER.matcher(d.getText()).find());
			List<TopLevel> items = Snippets.topLevelItems(unit);
			collectFunctions(items);
			topLevels(items);
			insertHelpers();
			unit.eAllContents().forEachRemaining(node -> {
				switch (node) {
				case TypeSpecifier type -> type.setName(scalarTypeOf(type.getName()));
				case BuiltinTypeConstruction construction -> construction.setType(scalarTypeOf(construction.getType()));
				default -> {
				}
				}
			});
			sweep();
		}

		// ------------------------------------------------------------------ names and problems

		private void collectNames() {
			taken.addAll(Dialect.VNNI.preludeNames());
			catalog.functions().forEach(f -> taken.add(f.name()));
			unit.eAllContents().forEachRemaining(node -> {
				switch (node) {
				case Name name -> taken.add(name.getName());
				case Declarator declarator -> taken.add(declarator.getName());
				case FunctionDefinition function -> taken.add(function.getName());
				case TypeSpecifier type -> taken.add(type.getName());
				default -> {
				}
				}
			});
		}

		private String fresh(String base) {
			String name = base;
			for (int k = 1; taken.contains(name); k++) {
				name = base + "_" + k;
			}
			taken.add(name);
			return name;
		}

		private String temporary() {
			String name;
			do {
				name = "t" + temporaries++;
			} while (taken.contains(name));
			taken.add(name);
			return name;
		}

		private void problem(EObject at, String message) {
			problems.add(location(at) + ": " + message);
		}

		/** The line of a node; new nodes borrow it from what they were made of, else from where they sit. */
		private String location(EObject at) {
			List<EObject> candidates = new ArrayList<>();
			candidates.add(at);
			at.eAllContents().forEachRemaining(candidates::add);
			for (EObject up = at.eContainer(); up != null; up = up.eContainer()) {
				candidates.add(up);
			}
			for (EObject candidate : candidates) {
				EObject parsed = original.apply(candidate);
				INode node = parsed == null ? null : NodeModelUtils.findActualNodeFor(parsed);
				if (node != null) {
					return "line " + node.getStartLine();
				}
			}
			return "line ?";
		}

		/** Whatever survived the rewriting: vector types, intrinsics nothing expanded. */
		private void sweep() {
			unit.eAllContents().forEachRemaining(node -> {
				switch (node) {
				case TypeSpecifier type when vectorBytes(type) > 0 -> problem(type, type.getName() + " in a "
						+ describe(type.eContainer()) + " is not rewritten");
				case Name name when isIntrinsicName(name.getName()) -> problem(name,
						name.getName() + " is not expanded");
				case TemplateCall call when isIntrinsicName(call.getFunction()) -> problem(call, call.getFunction()
						+ " is not expanded");
				default -> {
				}
				}
			});
		}

		private static boolean isIntrinsicName(String name) {
			return name.startsWith("_mm") || name.startsWith("_MM");
		}

		private static String describe(EObject node) {
			return node == null ? "file"
					: node.eClass().getName().replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(Locale.ROOT);
		}

		// ------------------------------------------------------------------ functions and declarations

		/** The file's functions that take or return vectors ({@code items}: the file's, blocks opened). */
		private void collectFunctions(List<TopLevel> items) {
			for (TopLevel item : items) {
				if (item instanceof FunctionDefinition function) {
					List<Operand> params = function.getParams().stream()
							.map(p -> vectorBytes(p.getType()) > 0 ? Operand.VECTOR : Operand.SCALAR).toList();
					int result = function.getReturnPointers().isEmpty() ? vectorBytes(function.getReturnType()) : 0;
					if (result > 0 || params.contains(Operand.VECTOR)) {
						userFunctions.put(function.getName(), new Callee(function.getName(), result, params));
					}
				}
			}
		}

		private void topLevels(List<TopLevel> items) {
			for (TopLevel item : items) {
				switch (item) {
				case FunctionDefinition function -> function(function);
				case Declaration declaration when vectorBytes(declaration.getType()) > 0 -> {
					if (!vectorDeclaration(declaration, vectorBytes(declaration.getType())).isEmpty()) {
						problem(declaration, "a file-scope vector with an initializer is not handled");
					}
				}
				case Declaration declaration -> scalarDeclaration(declaration, null);
				default -> {
				}
				}
			}
		}

		private void function(FunctionDefinition function) {
			scopes.push(new HashMap<>());
			List<Statement> prologue = new ArrayList<>();
			for (Parameter parameter : function.getParams()) {
				int bytes = vectorBytes(parameter.getType());
				if (bytes > 0) {
					vectorParameter(parameter, bytes, function, prologue);
				} else {
					declare(parameter.getDeclarator().getName(), Variable.SCALAR);
				}
			}
			Callee self = userFunctions.get(function.getName());
			if (self != null && self.resultBytes() > 0) {
				resultTarget = fresh("dst");
				resultBytes = self.resultBytes();
				function.setReturnType(builtin("void"));
				function.getParams().add(0, byteParameter(resultTarget));
			}
			if (function.getBody() != null) {
				block(function.getBody());
				function.getBody().getStatements().addAll(0, prologue);
			}
			resultTarget = null;
			scopes.pop();
		}

		/**
		 * A vector parameter becomes a byte pointer: {@code const} for a value the function only passes on to
		 * intrinsics, else the value is copied into a local array of the parameter's name; {@code __m512&}
		 * stays a reference to the caller's bytes.
		 */
		private void vectorParameter(Parameter parameter, int bytes, FunctionDefinition function,
				List<Statement> prologue) {
			Declarator declarator = parameter.getDeclarator();
			String name = declarator.getName();
			boolean reference = !declarator.getPointers().isEmpty()
					&& declarator.getPointers().stream().allMatch(p -> "&".equals(p.getKind()));
			if (name == null || (!declarator.getPointers().isEmpty() && !reference)
					|| !declarator.getDimensions().isEmpty()) {
				problem(parameter, "the vector parameter " + (name == null ? "without a name" : name)
						+ " is a pointer or an array of vectors, or unnamed, which is not handled");
				return;
			}
			declare(name, new Variable(bytes, 0));
			parameter.setType(builtin(BYTE));
			declarator.getPointers().clear();
			declarator.getPointers().add(pointer());
			if (reference) {
				return;
			}
			if (parameter.getSpecifiers().stream()
					.noneMatch(s -> s instanceof Specifier q && "const".equals(q.getName()))) {
				Specifier constant = F.createSpecifier();
				constant.setName("const");
				parameter.getSpecifiers().add(0, constant);
			}
			if (function.getBody() != null && !onlyIntrinsicOperand(function.getBody(), name)) {
				String incoming = fresh(name + "_in");
				declarator.setName(incoming);
				prologue.add(byteArray(name, bytes));
				prologue.add(statement(copy(nameNode(name), nameNode(incoming), bytes)));
			}
		}

		/** Whether {@code name} appears in {@code body} only as a direct argument of catalog intrinsics. */
		private boolean onlyIntrinsicOperand(CompoundStatement body, String name) {
			List<Name> uses = new ArrayList<>();
			body.eAllContents().forEachRemaining(o -> {
				if (o instanceof Name n && n.getName().equals(name)) {
					uses.add(n);
				}
			});
			return uses.stream().allMatch(n -> {
				EObject argument = n;
				while (argument.eContainer() instanceof Parenthesized p) {
					argument = p;
				}
				return argument.eContainer() instanceof Call call && call.getArgs().contains(argument)
						&& call.getCallee() instanceof Name callee && catalog.function(callee.getName()).isPresent();
			});
		}

		private void declaration(DeclarationStatement statement) {
			Declaration declaration = statement.getDeclaration();
			int bytes = vectorBytes(declaration.getType());
			if (bytes == 0) {
				List<Statement> hoisted = new ArrayList<>();
				scalarDeclaration(declaration, hoisted);
				place(statement, hoisted, List.of());
				return;
			}
			List<Statement> assignments = vectorDeclaration(declaration, bytes);
			place(statement, List.of(), assignments);
			for (Statement assignment : assignments) {
				expressionStatement((ExpressionStatement) assignment);
			}
		}

		/** Only the first declarator's temporaries may go before the declaration: later ones see earlier names. */
		private void scalarDeclaration(Declaration declaration, List<Statement> hoisted) {
			List<Statement> first = hoisted;
			for (Declarator declarator : declaration.getDeclarators()) {
				List<Statement> own = first;
				first = null;
				declare(declarator.getName(), Variable.SCALAR);
				if (declarator.getInitializer() != null) {
					initializer(declarator.getInitializer(), own);
				}
				declarator.getConstructorArgs().forEach(a -> scalar(a, own));
			}
		}

		private void initializer(Initializer initializer, List<Statement> hoisted) {
			switch (initializer) {
			case InitializerList list -> list.getElements().forEach(e -> initializer(e, hoisted));
			case Expression expression -> scalar(expression, hoisted);
			default -> {
			}
			}
		}

		/**
		 * Turns a vector declaration into byte arrays; returns the initialisations as assignments to run after it
		 * ({@code const} goes: the arrays are written once declared).
		 */
		private List<Statement> vectorDeclaration(Declaration declaration, int bytes) {
			declaration.getSpecifiers().removeIf(s -> s instanceof Specifier q
					&& Set.of("const", "constexpr", "register").contains(q.getName()));
			if (declaration.getSpecifiers().stream().noneMatch(AlignAs.class::isInstance)) {
				declaration.getSpecifiers().add(0, alignAs(bytes));
			}
			boolean once = declaration.getSpecifiers().stream().anyMatch(s -> s instanceof Specifier q
					&& ("static".equals(q.getName()) || "extern".equals(q.getName())));
			declaration.setType(builtin(BYTE));
			List<Statement> assignments = new ArrayList<>();
			for (Declarator declarator : declaration.getDeclarators()) {
				if (!declarator.getPointers().isEmpty()) {
					problem(declarator, "the pointer to vectors " + declarator.getName() + " is not handled");
					continue;
				}
				declare(declarator.getName(), new Variable(bytes, declarator.getDimensions().size()));
				declarator.getDimensions().add(dimension(bytes));
				if (declarator.getInitializer() instanceof Expression value && declarator.getDimensions().size() == 1
						&& !once) {
					assignments.add(statement(assignment(nameNode(declarator.getName()), value)));
				} else if (declarator.getInitializer() != null || !declarator.getConstructorArgs().isEmpty()) {
					problem(declarator, "the initializer of the vector " + declarator.getName()
							+ " (a list, a constructor or a static one) is not handled");
				}
			}
			return assignments;
		}

		private void declare(String name, Variable variable) {
			if (name != null) {
				(scopes.isEmpty() ? globals : scopes.peek()).put(name, variable);
			}
		}

		private Variable resolve(String name) {
			for (Map<String, Variable> scope : scopes) {
				Variable variable = scope.get(name);
				if (variable != null) {
					return variable;
				}
			}
			return globals.getOrDefault(name, Variable.SCALAR);
		}

		// ------------------------------------------------------------------ statements

		private void block(CompoundStatement block) {
			scopes.push(new HashMap<>());
			for (Statement statement : List.copyOf(block.getStatements())) {
				statement(statement);
			}
			scopes.pop();
		}

		private void statement(Statement statement) {
			switch (statement) {
			case CompoundStatement block -> block(block);
			case DeclarationStatement declaration -> declaration(declaration);
			case ExpressionStatement expression -> expressionStatement(expression);
			case ReturnStatement ret -> returnStatement(ret);
			case IfStatement branch -> {
				conditionBefore(branch, branch.getCondition());
				statement(branch.getThen());
				if (branch.getElse() != null) {
					statement(branch.getElse());
				}
			}
			case SwitchStatement choice -> {
				conditionBefore(choice, choice.getCondition());
				statement(choice.getBody());
			}
			case ForStatement loop -> {
				scopes.push(new HashMap<>());
				if (loop.getInitDeclaration() != null) {
					if (vectorBytes(loop.getInitDeclaration().getType()) > 0) {
						problem(loop.getInitDeclaration(), "a vector declared in a for header is not handled");
					}
					scalarDeclaration(loop.getInitDeclaration(), null);
				}
				Expression[] header = { loop.getInitExpression(), loop.getCondition(), loop.getUpdate() };
				for (Expression part : header) {
					if (part != null) {
						scalar(part, null);
					}
				}
				statement(loop.getBody());
				scopes.pop();
			}
			case WhileStatement loop -> {
				scalar(loop.getCondition(), null);
				statement(loop.getBody());
			}
			case DoStatement loop -> {
				statement(loop.getBody());
				scalar(loop.getCondition(), null);
			}
			default -> {
			}
			}
		}

		/** An if or switch condition is evaluated once, so its vector temporaries may go before the statement. */
		private void conditionBefore(Statement statement, Expression condition) {
			List<Statement> hoisted = new ArrayList<>();
			scalar(condition, hoisted);
			place(statement, hoisted, List.of());
		}

		private void expressionStatement(ExpressionStatement statement) {
			List<Statement> hoisted = new ArrayList<>();
			Expression expression = unwrap(statement.getExpression());
			Callee callee = expression instanceof Call call ? callee(call) : null;
			if (expression instanceof Assignment assignment && vectorLvalue(assignment.getLeft()) != null
					&& "=".equals(assignment.getOp()) && unwrap(assignment.getRight()) instanceof Conditional choice) {
				// the target is evaluated once either way: in the branch taken
				IfStatement branch = choice(choice, () -> EcoreUtil.copy(assignment.getLeft()), hoisted);
				EcoreUtil.replace(statement, branch);
				place(branch, hoisted, List.of());
			} else if (expression instanceof Assignment assignment && vectorLvalue(assignment.getLeft()) != null) {
				statement.setExpression(vectorAssignment(assignment, vectorLvalue(assignment.getLeft()), hoisted));
				place(statement, hoisted, List.of());
			} else if (callee != null && callee.resultBytes() > 0) {
				// a vector result nobody reads: still computed, into a temporary
				operand(statement.getExpression(), hoisted);
				place(statement, hoisted, List.of());
				EcoreUtil.remove(statement);
			} else {
				scalar(statement.getExpression(), hoisted);
				place(statement, hoisted, List.of());
			}
		}

		/** {@code v = op(...)} computes straight into v; {@code v = w} copies the bytes. */
		private Expression vectorAssignment(Assignment assignment, Variable target, List<Statement> hoisted) {
			if (!"=".equals(assignment.getOp())) {
				problem(assignment, "the vector operator " + assignment.getOp() + " is not handled");
				return assignment;
			}
			Expression left = assignment.getLeft();
			indices(left, hoisted);
			Expression right = unwrap(assignment.getRight());
			Callee callee = right instanceof Call call ? callee(call) : null;
			if (callee != null && callee.resultBytes() > 0) {
				return into((Call) right, callee, left, hoisted);
			}
			operand(assignment.getRight(), hoisted);
			return copy(left, assignment.getRight(), target.bytes());
		}

		private void returnStatement(ReturnStatement statement) {
			List<Statement> hoisted = new ArrayList<>();
			if (resultTarget == null) {
				if (statement.getValue() != null) {
					scalar(statement.getValue(), hoisted);
				}
			} else if (statement.getValue() == null) {
				problem(statement, "a function that returns a vector returns nothing here");
			} else {
				Expression value = unwrap(statement.getValue());
				Callee callee = value instanceof Call call ? callee(call) : null;
				Expression result;
				if (callee != null && callee.resultBytes() > 0) {
					result = into((Call) value, callee, nameNode(resultTarget), hoisted);
				} else {
					operand(statement.getValue(), hoisted);
					result = copy(nameNode(resultTarget), statement.getValue(), resultBytes);
				}
				hoisted.add(statement(result));
				statement.setValue(null);
			}
			place(statement, hoisted, List.of());
		}

		/** Puts statements before and after {@code statement}, in a new block where it stands alone. */
		private static void place(Statement statement, List<Statement> before, List<Statement> after) {
			if (before.isEmpty() && after.isEmpty()) {
				return;
			}
			if (statement.eContainer() instanceof CompoundStatement block) {
				int at = block.getStatements().indexOf(statement);
				block.getStatements().addAll(at + 1, after);
				block.getStatements().addAll(at, before);
			} else {
				CompoundStatement block = F.createCompoundStatement();
				EcoreUtil.replace(statement, block);
				block.getStatements().addAll(before);
				block.getStatements().add(statement);
				block.getStatements().addAll(after);
			}
		}

		// ------------------------------------------------------------------ expressions

		/**
		 * Rewrites an expression whose own value is not a vector; vector values inside it go into temporaries
		 * added to {@code hoisted}, which is null where they would be computed at the wrong time.
		 */
		private void scalar(Expression expression, List<Statement> hoisted) {
			switch (expression) {
			case Call call when callee(call) instanceof Callee callee -> {
				if (callee.resultBytes() > 0) {
					problem(call, "the vector result of " + PRINTER.expression(call.getCallee())
							+ " is used where a scalar is expected");
				} else {
					arguments(call, callee, hoisted);
					((Name) call.getCallee()).setName(callee.helper());
				}
			}
			case Name name -> name(name);
			case SizeOf size -> {
				// the operand is not evaluated, and a byte array has the vector's size
				if (size.getType() != null && vectorBytes(size.getType().getType()) > 0) {
					if (size.getType().getPointers().isEmpty()) {
						EcoreUtil.replace(size, literal(vectorBytes(size.getType().getType())));
					} else {
						size.getType().setType(builtin(BYTE));
					}
				}
			}
			case Cast cast -> {
				castType(cast, cast.getType());
				scalar(cast.getOperand(), hoisted);
			}
			case CxxCast cast -> {
				castType(cast, cast.getType());
				scalar(cast.getOperand(), hoisted);
			}
			case Conditional conditional -> {
				scalar(conditional.getCondition(), hoisted);
				scalar(conditional.getThen(), null);
				scalar(conditional.getElse(), null);
			}
			case Binary binary when "&&".equals(binary.getOp()) || "||".equals(binary.getOp()) -> {
				scalar(binary.getLeft(), hoisted);
				scalar(binary.getRight(), null);
			}
			case CommaExpression comma -> {
				List<Expression> parts = List.copyOf(comma.getExpressions());
				for (int i = 0; i < parts.size(); i++) {
					scalar(parts.get(i), i == 0 ? hoisted : null);
				}
			}
			default -> {
				for (EObject child : List.copyOf(expression.eContents())) {
					if (child instanceof Expression part) {
						scalar(part, hoisted);
					}
				}
			}
			}
		}

		private void name(Name name) {
			if (resolve(name.getName()).vector()) {
				EObject use = name.eContainer() instanceof Expression container ? container : name;
				problem(name, "the vector " + name.getName() + " is used in '" + PRINTER.expression((Expression) use)
						+ "', which detensorize does not rewrite (vectors may be intrinsic or function operands, be "
						+ "assigned or initialised)");
				return;
			}
			// immintrin.h's comparison predicates: plain numbers elsewhere
			catalog.constant(name.getName()).filter(c -> c.name().startsWith("_") && c.value() instanceof Integer)
					.ifPresent(c -> EcoreUtil.replace(name, literal((Integer) c.value())));
		}

		/** A cast to a vector pointer is fine as an intrinsic's memory operand: the address stays, as bytes. */
		private void castType(Expression cast, TypeName type) {
			if (vectorBytes(type.getType()) == 0) {
				return;
			}
			EObject argument = cast;
			while (argument.eContainer() instanceof Parenthesized p) {
				argument = p;
			}
			if (!type.getPointers().isEmpty() && argument.eContainer() instanceof Call call
					&& call.getArgs().contains(argument)) {
				type.setType(builtin(BYTE));
			} else {
				problem(cast, "the cast '" + PRINTER.expression(cast) + "' is not handled");
			}
		}

		/** Passes every argument as its parameter wants it: vectors as their bytes. */
		private void arguments(Call call, Callee callee, List<Statement> hoisted) {
			List<Expression> args = List.copyOf(call.getArgs());
			for (int i = 0; i < args.size(); i++) {
				if (callee.param(i) == Operand.VECTOR) {
					operand(args.get(i), hoisted);
				} else {
					scalar(args.get(i), hoisted);
				}
			}
		}

		/** Makes {@code expression} denote the bytes of a vector: a vector variable, or a temporary it computes. */
		private void operand(Expression expression, List<Statement> hoisted) {
			Expression inner = unwrap(expression);
			Callee callee = inner instanceof Call call ? callee(call) : null;
			if (callee != null && callee.resultBytes() > 0) {
				if (hoisted == null) {
					problem(inner, "'" + PRINTER.expression(inner) + "' is computed under ?:, && or || or in a loop "
							+ "header, where its vector cannot be computed beforehand");
					return;
				}
				Call call = (Call) inner;
				arguments(call, callee, hoisted); // first, so that temporaries are numbered in order
				String name = temporary();
				EcoreUtil.replace(expression, nameNode(name));
				hoisted.add(byteArray(name, callee.resultBytes()));
				hoisted.add(statement(retarget(call, callee, nameNode(name))));
			} else if (vectorLvalue(inner) != null) {
				indices(inner, hoisted);
			} else if (inner instanceof Conditional choice && hoisted != null && valueBytes(choice) > 0) {
				String name = temporary();
				declare(name, new Variable(valueBytes(choice), 0));
				hoisted.add(byteArray(name, valueBytes(choice)));
				IfStatement branch = choice(choice, () -> nameNode(name), hoisted);
				hoisted.add(branch);
				EcoreUtil.replace(expression, nameNode(name));
			} else {
				problem(inner, "'" + PRINTER.expression(inner) + "' is not a vector variable, a vector intrinsic "
						+ "call or a choice between them, which is all detensorize passes as a vector operand");
			}
		}

		/**
		 * {@code if (c) target = a; else target = b;} for {@code c ? a : b}: the condition's vector work goes to
		 * {@code hoisted}, each side's into its own branch.
		 */
		private IfStatement choice(Conditional choice, Supplier<Expression> target, List<Statement> hoisted) {
			scalar(choice.getCondition(), hoisted);
			IfStatement branch = F.createIfStatement();
			branch.setCondition(choice.getCondition());
			branch.setThen(statement(assignment(target.get(), choice.getThen())));
			branch.setElse(statement(assignment(target.get(), choice.getElse())));
			expressionStatement((ExpressionStatement) branch.getThen());
			expressionStatement((ExpressionStatement) branch.getElse());
			return branch;
		}

		/** The size of the vector {@code e} is, 0 when it is none. */
		private int valueBytes(Expression e) {
			Expression inner = unwrap(e);
			if (inner instanceof Conditional choice) {
				return Math.max(valueBytes(choice.getThen()), valueBytes(choice.getElse()));
			}
			Callee callee = inner instanceof Call call ? callee(call) : null;
			Variable variable = callee == null ? vectorLvalue(inner) : null;
			return callee != null ? callee.resultBytes() : variable != null ? variable.bytes() : 0;
		}

		/** The call of the helper that computes {@code call}'s vector into {@code target}. */
		private Call into(Call call, Callee callee, Expression target, List<Statement> hoisted) {
			arguments(call, callee, hoisted);
			return retarget(call, callee, target);
		}

		private static Call retarget(Call call, Callee callee, Expression target) {
			((Name) call.getCallee()).setName(callee.helper());
			call.getArgs().add(0, target);
			return call;
		}

		/** The subscripts of {@code acc[j]} (an array of vectors) are ordinary expressions. */
		private void indices(Expression lvalue, List<Statement> hoisted) {
			for (Expression e = unwrap(lvalue); e instanceof Index index; e = unwrap(index.getTarget())) {
				scalar(index.getIndex(), hoisted);
			}
		}

		/** The vector that {@code expression} names whole ({@code v}, {@code acc[j]}), or null. */
		private Variable vectorLvalue(Expression expression) {
			int depth = 0;
			Expression e = unwrap(expression);
			for (; e instanceof Index index; e = unwrap(index.getTarget())) {
				depth++;
			}
			if (e instanceof Name name) {
				Variable variable = resolve(name.getName());
				return variable.vector() && variable.dims() == depth ? variable : null;
			}
			return null;
		}

		private static Expression unwrap(Expression expression) {
			Expression e = expression;
			while (e instanceof Parenthesized p) {
				e = p.getExpression();
			}
			return e;
		}

		/** The function a call expands to: the file's own functions with vectors, or a catalog intrinsic. */
		private Callee callee(Call call) {
			if (!(call.getCallee() instanceof Name callee)) {
				return null;
			}
			String name = callee.getName();
			Callee user = userFunctions.get(name);
			if (user != null) {
				return user;
			}
			Intrinsic known = intrinsics.get(name);
			if (known != null) {
				return known.callee();
			}
			Optional<CatalogFunction> function = catalog.function(name);
			if (function.isEmpty()) {
				if (isIntrinsicName(name)) {
					problem(call, name + " is not in the VNNI catalog, so there is no reference body to expand");
				}
				return null;
			}
			if (!expandable(function.get())) {
				return null; // expf and the like: scalar C everywhere
			}
			Optional<Signature> signature = function.get().signatures().stream()
					.filter(s -> s.accepts(call.getArgs().size())).findFirst();
			String reference = signature.map(Signature::reference).orElse(function.get().reference());
			if (signature.isEmpty() || reference == null) {
				problem(call, name + (signature.isEmpty() ? " has no form with " + call.getArgs().size() + " arguments"
						: " has no reference body in the VNNI catalog, so it cannot be expanded"));
				return null;
			}
			Intrinsic intrinsic = intrinsic(function.get(), signature.get(), reference, call);
			if (intrinsic == null) {
				return null;
			}
			intrinsics.put(name, intrinsic);
			return intrinsic.callee();
		}

		private static boolean expandable(CatalogFunction function) {
			return isIntrinsicName(function.name()) || function.signatures().stream().anyMatch(
					s -> mentionsVector(s.returns()) || s.params().stream().anyMatch(p -> mentionsVector(p.type())));
		}

		private static boolean mentionsVector(String type) {
			return type != null && (IDENTIFIER.matcher(type).results().anyMatch(m -> vectorBytes(m.group()) > 0
					|| MASK_TYPE.matcher(m.group()).matches()));
		}

		// ------------------------------------------------------------------ helpers

		/**
		 * The helper of an intrinsic: the reference body with vector operands as byte pointers; a vector result
		 * is built in a lane array and copied to {@code dst} at the end.
		 */
		private Intrinsic intrinsic(CatalogFunction function, Signature signature, String reference, Call use) {
			Set<String> bodyNames = new HashSet<>();
			IDENTIFIER.matcher(reference).results().forEach(m -> bodyNames.add(m.group()));
			signature.params().forEach(p -> bodyNames.add(p.name()));
			String target = "dst";
			for (int k = 1; bodyNames.contains(target); k++) {
				target = "dst" + k;
			}
			int result = vectorBytes(signature.returns());
			List<String> params = new ArrayList<>();
			List<Operand> operands = new ArrayList<>();
			Map<String, String> laneTypes = new LinkedHashMap<>();
			if (result > 0) {
				params.add(BYTE + "* " + target);
			}
			for (CatalogFunction.Parameter p : signature.params()) {
				if (vectorBytes(p.type()) > 0) {
					String lane = laneType(p.element(), p.type());
					if (lane == null) {
						problem(use, function.name() + "'s operand " + p.name() + " has no portable lane type");
						return null;
					}
					laneTypes.put(p.name(), lane);
					params.add("const " + BYTE + "* " + p.name());
					operands.add(Operand.VECTOR);
				} else {
					params.add(cType(p.type()) + " " + p.name());
					operands.add(Operand.SCALAR);
				}
			}
			StringBuilder text = new StringBuilder("// ").append(function.name()).append('\n');
			text.append("static inline ").append(result > 0 ? "void" : cType(signature.returns())).append(' ');
			String helper = fresh(function.name().replaceFirst("^_+", ""));
			text.append(helper).append('(').append(String.join(", ", params)).append(")\n{\n");
			if (result > 0) {
				String lane = laneType(signature.returnElement(), signature.returns());
				if (lane == null) {
					problem(use, function.name() + "'s result has no portable lane type");
					return null;
				}
				text.append("    ").append(lane).append(" result[").append(result * 8 / laneBits(lane)).append("];\n");
			}
			reference.lines().forEach(line -> text.append("    ").append(line).append('\n'));
			if (result > 0) {
				text.append("    for (int i = 0; i < ").append(result).append("; ++i) ").append(target)
						.append("[i] = ((const ").append(BYTE).append("*)result)[i];\n");
			}
			text.append("}\n");
			return new Intrinsic(new Callee(helper, result, operands), text.toString(), laneTypes, use);
		}

		/** The lane type of a vector operand: its own {@code element}, else the vector type's. */
		private String laneType(String element, String vectorType) {
			String lane = element != null ? element
					: catalog.type(vectorType.strip()).map(CatalogType::element).orElse(null);
			return lane != null && laneBits(lane) > 0 ? lane : null;
		}

		private int laneBits(String type) {
			return switch (type) {
			case "float" -> 32;
			case "double" -> 64;
			default -> catalog.type(type).filter(t -> !"vector".equals(t.kind()) && t.bits() != null)
					.map(CatalogType::bits).orElse(0);
			};
		}

		/** A catalog parameter type as C: {@code void const*} is {@code const void*}; vectors are bytes. */
		private static String cType(String catalogType) {
			boolean constant = IDENTIFIER.matcher(catalogType).results().anyMatch(m -> m.group().equals("const"));
			String base = catalogType.replaceAll("\\bconst\\b|\\*", "").strip();
			base = vectorBytes(base) > 0 ? BYTE : scalarTypeOf(base);
			String pointers = "*".repeat((int) catalogType.chars().filter(c -> c == '*').count());
			return (constant ? "const " : "") + base + pointers;
		}

		/** Parses the helpers once, points their lane reads at the operands' lane types, puts them in the file. */
		private void insertHelpers() {
			StringBuilder text = new StringBuilder();
			intrinsics.values().forEach(i -> text.append(i.text()));
			if (copyHelper != null) {
				text.append("// a vector assignment\nstatic inline void ").append(copyHelper).append('(').append(BYTE)
						.append("* dst, const ").append(BYTE).append("* src, int bytes)\n{\n")
						.append("    for (int i = 0; i < bytes; ++i) dst[i] = src[i];\n}\n");
			}
			if (text.isEmpty()) {
				return;
			}
			ParsedKernel parsed = new KernelParser().parse("detensorize-helpers.cpp", text.toString(), Dialect.VNNI);
			if (parsed.unit() == null || !parsed.resource().getErrors().isEmpty()) {
				EObject use = intrinsics.values().stream().map(Intrinsic::firstUse).findFirst().orElse(unit);
				problem(use, "the helpers of " + String.join(", ", intrinsics.keySet()) + " do not parse: "
						+ parsed.errors().stream().map(d -> d.format()).collect(Collectors.joining("; ")));
				return;
			}
			List<TopLevel> helpers = List.copyOf(parsed.unit().getItems());
			Map<String, Intrinsic> byHelper = new HashMap<>();
			intrinsics.values().forEach(i -> byHelper.put(i.callee().helper(), i));
			for (TopLevel helper : helpers) {
				if (helper instanceof FunctionDefinition function && byHelper.containsKey(function.getName())) {
					laneReads(function, byHelper.get(function.getName()));
				}
			}
			int at = 0;
			while (at < unit.getItems().size() && !(unit.getItems().get(at) instanceof FunctionDefinition)
					&& !(unit.getItems().get(at) instanceof ItemBlock)) {
				at++;
			}
			unit.getItems().addAll(at, helpers);
		}

		/** {@code a[i]} of a vector operand reads lane i: {@code ((const float *)a)[i]}. */
		private void laneReads(FunctionDefinition helper, Intrinsic intrinsic) {
			List<Name> reads = new ArrayList<>();
			helper.getBody().eAllContents().forEachRemaining(o -> {
				if (o instanceof Name n && intrinsic.laneTypes().containsKey(n.getName())) {
					reads.add(n);
				}
			});
			for (Name read : reads) {
				if (read.eContainer() instanceof Index index && index.getTarget() == read) {
					TypeName lanes = F.createTypeName();
					lanes.getSpecifiers().add("const");
					lanes.setType(builtin(intrinsic.laneTypes().get(read.getName())));
					lanes.getPointers().add(pointer());
					Cast cast = F.createCast();
					cast.setType(lanes);
					cast.setOperand(nameNode(read.getName()));
					EcoreUtil.replace(read, parenthesized(cast));
				} else {
					problem(intrinsic.firstUse(), "the reference body of " + helper.getName() + " uses its vector "
							+ read.getName() + " other than lane by lane");
				}
			}
		}

		// ------------------------------------------------------------------ node factories

		private Call copy(Expression target, Expression source, int bytes) {
			if (copyHelper == null) {
				copyHelper = fresh("vector_copy");
			}
			Call call = F.createCall();
			call.setCallee(nameNode(copyHelper));
			call.getArgs().add(target);
			call.getArgs().add(source);
			call.getArgs().add(literal(bytes));
			return call;
		}

		/** {@code alignas(N) unsigned char name[N];} */
		private static DeclarationStatement byteArray(String name, int bytes) {
			Declaration declaration = F.createDeclaration();
			declaration.getSpecifiers().add(alignAs(bytes));
			declaration.setType(builtin(BYTE));
			Declarator declarator = F.createDeclarator();
			declarator.setName(name);
			declarator.getDimensions().add(dimension(bytes));
			declaration.getDeclarators().add(declarator);
			DeclarationStatement statement = F.createDeclarationStatement();
			statement.setDeclaration(declaration);
			return statement;
		}

		private static Parameter byteParameter(String name) {
			Parameter parameter = F.createParameter();
			parameter.setType(builtin(BYTE));
			Declarator declarator = F.createDeclarator();
			declarator.getPointers().add(pointer());
			declarator.setName(name);
			parameter.setDeclarator(declarator);
			return parameter;
		}

		private static AlignAs alignAs(int bytes) {
			AlignAs alignAs = F.createAlignAs();
			alignAs.setAlignment(literal(bytes));
			return alignAs;
		}

		private static ArrayDimension dimension(int size) {
			ArrayDimension dimension = F.createArrayDimension();
			dimension.setSize(literal(size));
			return dimension;
		}

		private static BuiltinType builtin(String name) {
			BuiltinType type = F.createBuiltinType();
			type.setName(name);
			return type;
		}

		private static PointerOperator pointer() {
			PointerOperator pointer = F.createPointerOperator();
			pointer.setKind("*");
			return pointer;
		}

		private static Assignment assignment(Expression target, Expression value) {
			Assignment assignment = F.createAssignment();
			assignment.setLeft(target);
			assignment.setOp("=");
			assignment.setRight(value);
			return assignment;
		}

		private static ExpressionStatement statement(Expression expression) {
			ExpressionStatement statement = F.createExpressionStatement();
			statement.setExpression(expression);
			return statement;
		}

		private static Name nameNode(String name) {
			Name node = F.createName();
			node.setName(name);
			return node;
		}

		private static IntLiteral literal(int value) {
			IntLiteral literal = F.createIntLiteral();
			literal.setValue(Integer.toString(value));
			return literal;
		}

		private static Parenthesized parenthesized(Expression expression) {
			Parenthesized parenthesized = F.createParenthesized();
			parenthesized.setExpression(expression);
			return parenthesized;
		}
	}
}
