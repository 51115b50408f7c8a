package org.xpiler.lang.printing;

import java.util.List;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.nodemodel.ICompositeNode;
import org.eclipse.xtext.nodemodel.ILeafNode;
import org.eclipse.xtext.nodemodel.util.NodeModelUtils;
import org.xpiler.lang.kernel.AlignAs;
import org.xpiler.lang.kernel.ArrayDimension;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.AttributeItem;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BoolLiteral;
import org.xpiler.lang.kernel.BreakStatement;
import org.xpiler.lang.kernel.BuiltinTypeConstruction;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CaseLabel;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CharLiteral;
import org.xpiler.lang.kernel.CommaExpression;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.ContinueStatement;
import org.xpiler.lang.kernel.CxxCast;
import org.xpiler.lang.kernel.DeclSpecifier;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.DefaultLabel;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.DirectiveStatement;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.EmptyDeclaration;
import org.xpiler.lang.kernel.EmptyStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FloatLiteral;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionAttribute;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.GnuAttribute;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.Initializer;
import org.xpiler.lang.kernel.InitializerList;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.ItemBlock;
import org.xpiler.lang.kernel.LinkageBlock;
import org.xpiler.lang.kernel.NamespaceBlock;
import org.xpiler.lang.kernel.LinkageSpecifier;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.NullLiteral;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.PointerOperator;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.SizeOf;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.StringLiteral;
import org.xpiler.lang.kernel.SwitchStatement;
import org.xpiler.lang.kernel.TemplateArgument;
import org.xpiler.lang.kernel.TemplateCall;
import org.xpiler.lang.kernel.TemplateMember;
import org.xpiler.lang.kernel.TemplateId;
import org.xpiler.lang.kernel.TemplateHeader;
import org.xpiler.lang.kernel.TemplateParameter;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeName;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.StructDefinition;
import org.xpiler.lang.kernel.TypedefDeclaration;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.kernel.UsingDirective;
import org.xpiler.lang.kernel.WhileStatement;

/**
 * Prints a kernel model back to source in one conventional style: 4-space indentation, K&amp;R braces, one
 * space around binary operators, `float *p` pointers. The model's structure is kept exactly (parentheses,
 * literal spellings, braces or their absence), so parsing the output gives an equal model; comments that
 * precede a declaration or statement are carried along. Dialect printers extend it for their own nodes.
 */
public class KernelPrinter {
	private static final String INDENT = "    ";

	/** Prints a whole file. */
	public String print(TranslationUnit unit) {
		StringBuilder out = new StringBuilder();
		printTopLevels(unit.getItems(), out, 0);
		return out.toString();
	}

	private void printTopLevels(List<TopLevel> items, StringBuilder out, int depth) {
		TopLevel previous = null;
		for (TopLevel item : items) {
			if (previous != null && (item instanceof FunctionDefinition || previous instanceof FunctionDefinition
					|| item instanceof ItemBlock || previous instanceof ItemBlock)) {
				out.append('\n');
			}
			printComments(item, out, depth);
			printTopLevel(item, out, depth);
			previous = item;
		}
	}

	/** Prints one top-level item (a function, a declaration, a directive) with its comments. */
	public String topLevel(TopLevel item) {
		StringBuilder out = new StringBuilder();
		printComments(item, out, 0);
		printTopLevel(item, out, 0);
		return out.toString();
	}

	/** Prints one statement with its comments, indented {@code depth} levels, ending with a newline. */
	public String statement(Statement statement, int depth) {
		StringBuilder out = new StringBuilder();
		printStatement(statement, out, depth);
		return out.toString();
	}

	protected void printTopLevel(TopLevel item, StringBuilder out, int depth) {
		switch (item) {
		case Directive directive -> out.append(directive.getText()).append('\n');
		case UsingDirective using -> indent(out, depth).append("using namespace ").append(using.getNamespace())
				.append(";\n");
		case ItemBlock block -> {
			String head = block instanceof NamespaceBlock namespace
					? "namespace" + (namespace.getName() == null ? "" : " " + namespace.getName())
					: "extern " + ((LinkageBlock) block).getLinkage();
			indent(out, depth).append(head).append(" {\n");
			printTopLevels(block.getItems(), out, depth);
			indent(out, depth).append("}\n");
		}
		case TypedefDeclaration typedef -> {
			indent(out, depth).append("typedef ");
			appendSpecifiers(typedef.getSpecifiers(), out);
			out.append(type(typedef.getType())).append(' ');
			appendDeclarators(typedef.getDeclarators(), out);
			out.append(";\n");
		}
		case StructDefinition struct -> {
			if (struct.getTemplate() != null) {
				indent(out, depth).append(templateHeader(struct.getTemplate())).append('\n');
			}
			indent(out, depth).append(struct.isTypedef() ? "typedef struct" : "struct");
			if (struct.getAlignment() != null) {
				out.append(" alignas(").append(expression(struct.getAlignment().getAlignment())).append(')');
			}
			struct.getAttributes().forEach(attribute -> out.append(' ').append(gnuAttribute(attribute)));
			out.append(struct.getName() == null ? "" : " " + struct.getName()).append(" {\n");
			for (Declaration member : struct.getMembers()) {
				indent(out, depth + 1);
				appendDeclaration(member, out);
				out.append('\n');
			}
			indent(out, depth).append('}').append(struct.getAlias() == null ? "" : " " + struct.getAlias()).append(";\n");
		}
		case FunctionDefinition function -> printFunction(function, out, depth);
		case Declaration declaration -> {
			indent(out, depth);
			appendDeclaration(declaration, out);
			out.append('\n');
		}
		case EmptyDeclaration empty -> indent(out, depth).append(";\n");
		default -> throw unknown(item);
		}
	}

	private void printFunction(FunctionDefinition function, StringBuilder out, int depth) {
		indent(out, depth);
		if (function.getTemplate() != null) {
			out.append(templateHeader(function.getTemplate())).append('\n');
			indent(out, depth);
		}
		appendSpecifiers(function.getSpecifiers(), out);
		out.append(type(function.getReturnType()));
		StringBuilder pointers = new StringBuilder();
		function.getReturnPointers().forEach(p -> pointers.append(pointer(p)));
		out.append(' ').append(pointers);
		for (FunctionAttribute attribute : function.getAttributes()) {
			out.append(functionAttribute(attribute)).append(' ');
		}
		out.append(function.getName());
		if (!function.getSpecialization().isEmpty()) {
			out.append('<').append(templateArguments(function.getSpecialization())).append('>');
		}
		out.append('(');
		for (int i = 0; i < function.getParams().size(); i++) {
			out.append(i > 0 ? ", " : "").append(parameter(function.getParams().get(i)));
		}
		if (function.isVariadic()) {
			out.append(", ...");
		}
		out.append(')');
		function.getTrailingQualifiers().forEach(q -> out.append(' ').append(q));
		if (function.getBody() == null) {
			out.append(";\n");
			return;
		}
		out.append(' ');
		printBlock(function.getBody(), out, depth);
		out.append('\n');
	}

	protected String functionAttribute(FunctionAttribute attribute) {
		if (attribute instanceof GnuAttribute gnu) {
			return gnuAttribute(gnu);
		}
		throw unknown(attribute);
	}

	private String gnuAttribute(GnuAttribute attribute) {
		StringBuilder out = new StringBuilder("__attribute__((");
		for (int i = 0; i < attribute.getItems().size(); i++) {
			AttributeItem item = attribute.getItems().get(i);
			out.append(i > 0 ? ", " : "").append(item.getName());
			if (!item.getArgs().isEmpty()) {
				out.append('(').append(expressions(item.getArgs())).append(')');
			}
		}
		return out.append("))").toString();
	}

	private String templateHeader(TemplateHeader header) {
		StringBuilder out = new StringBuilder("template <");
		for (int i = 0; i < header.getParams().size(); i++) {
			TemplateParameter param = header.getParams().get(i);
			out.append(i > 0 ? ", " : "");
			if (param.getKind() != null) {
				out.append(param.getKind()).append(' ').append(param.getName());
				if (param.getDefaultType() != null) {
					out.append(" = ").append(typeName(param.getDefaultType()));
				}
			} else {
				out.append(type(param.getValueType())).append(' ').append(param.getName());
				if (param.getDefaultValue() != null) {
					out.append(" = ").append(expression(param.getDefaultValue()));
				}
			}
		}
		return out.append('>').toString();
	}

	/** {@code const float* __restrict__ x}. */
	public String parameter(Parameter parameter) {
		StringBuilder out = new StringBuilder();
		appendSpecifiers(parameter.getSpecifiers(), out);
		out.append(type(parameter.getType()));
		String declarator = declarator(parameter.getDeclarator());
		if (!declarator.isEmpty()) {
			out.append(' ').append(declarator);
		}
		return out.toString();
	}

	// ------------------------------------------------------------------ declarations and types

	private void appendDeclaration(Declaration declaration, StringBuilder out) {
		appendSpecifiers(declaration.getSpecifiers(), out);
		out.append(type(declaration.getType())).append(' ');
		appendDeclarators(declaration.getDeclarators(), out);
		out.append(';');
	}

	private void appendSpecifiers(List<DeclSpecifier> specifiers, StringBuilder out) {
		for (DeclSpecifier specifier : specifiers) {
			switch (specifier) {
			case Specifier s -> out.append(s.getName());
			case LinkageSpecifier l -> out.append("extern ").append(l.getLinkage());
			case AlignAs a -> out.append("alignas(").append(expression(a.getAlignment())).append(')');
			default -> throw unknown(specifier);
			}
			out.append(' ');
		}
	}

	private void appendDeclarators(List<Declarator> declarators, StringBuilder out) {
		for (int i = 0; i < declarators.size(); i++) {
			out.append(i > 0 ? ", " : "").append(declarator(declarators.get(i)));
		}
	}

	private String declarator(Declarator declarator) {
		StringBuilder out = new StringBuilder();
		declarator.getPointers().forEach(p -> out.append(pointer(p)));
		if (declarator.getName() != null) {
			out.append(declarator.getName());
		}
		for (ArrayDimension dimension : declarator.getDimensions()) {
			out.append('[').append(dimension.getSize() == null ? "" : expression(dimension.getSize())).append(']');
		}
		declarator.getAttributes().forEach(a -> out.append(' ').append(gnuAttribute(a)));
		if (declarator.getInitializer() != null) {
			out.append(" = ").append(initializer(declarator.getInitializer()));
		} else if (!declarator.getConstructorArgs().isEmpty()) {
			out.append('(').append(expressions(declarator.getConstructorArgs())).append(')');
		}
		return out.toString();
	}

	private String pointer(PointerOperator pointer) {
		StringBuilder out = new StringBuilder(pointer.getKind());
		pointer.getQualifiers().forEach(q -> out.append(q).append(' '));
		return out.toString();
	}

	private String initializer(Initializer initializer) {
		if (initializer instanceof InitializerList list) {
			StringBuilder out = new StringBuilder("{");
			for (int i = 0; i < list.getElements().size(); i++) {
				out.append(i > 0 ? ", " : "").append(initializer(list.getElements().get(i)));
			}
			return out.append('}').toString();
		}
		return expression((Expression) initializer);
	}

	protected String type(TypeSpecifier type) {
		if (type instanceof NamedType named && !named.getTemplateArgs().isEmpty()) {
			return named.getName() + '<' + templateArguments(named.getTemplateArgs()) + '>';
		}
		return type.getName();
	}

	private String templateArguments(List<TemplateArgument> arguments) {
		StringBuilder out = new StringBuilder();
		for (int i = 0; i < arguments.size(); i++) {
			TemplateArgument argument = arguments.get(i);
			out.append(i > 0 ? ", " : "")
					.append(argument.getType() != null ? typeName(argument.getType()) : expression(argument.getValue()));
		}
		return out.toString();
	}

	private String typeName(TypeName typeName) {
		StringBuilder out = new StringBuilder();
		typeName.getSpecifiers().forEach(s -> out.append(s).append(' '));
		out.append(type(typeName.getType()));
		if (!typeName.getPointers().isEmpty()) {
			out.append(' ');
			typeName.getPointers().forEach(p -> out.append(pointer(p)));
		}
		return out.toString().strip();
	}

	// ------------------------------------------------------------------ statements

	private void printBlock(CompoundStatement block, StringBuilder out, int depth) {
		out.append("{\n");
		for (Statement statement : block.getStatements()) {
			printStatement(statement, out, depth + 1);
		}
		indent(out, depth).append('}');
	}

	private void printStatement(Statement statement, StringBuilder out, int depth) {
		printComments(statement, out, depth);
		if (statement instanceof DirectiveStatement directive) {
			out.append(directive.getDirective().getText()).append('\n');
			return;
		}
		if (statement instanceof CaseLabel || statement instanceof DefaultLabel) {
			indent(out, Math.max(0, depth - 1));
		} else {
			indent(out, depth);
		}
		printStatementBody(statement, out, depth);
		out.append('\n');
	}

	/** Prints a statement from the current column on, without the final newline. */
	private void printStatementBody(Statement statement, StringBuilder out, int depth) {
		switch (statement) {
		case CompoundStatement block -> printBlock(block, out, depth);
		case DeclarationStatement declaration -> appendDeclaration(declaration.getDeclaration(), out);
		case ExpressionStatement expression -> out.append(expression(expression.getExpression())).append(';');
		case IfStatement ifStatement -> {
			out.append("if (").append(expression(ifStatement.getCondition())).append(')');
			printBody(ifStatement.getThen(), out, depth);
			if (ifStatement.getElse() != null) {
				out.append(ifStatement.getThen() instanceof CompoundStatement ? " " : "\n" + INDENT.repeat(depth));
				out.append("else");
				if (ifStatement.getElse() instanceof IfStatement elseIf) {
					out.append(' ');
					printStatementBody(elseIf, out, depth);
				} else {
					printBody(ifStatement.getElse(), out, depth);
				}
			}
		}
		case ForStatement loop -> {
			out.append("for (");
			if (loop.getInitDeclaration() != null) {
				appendDeclaration(loop.getInitDeclaration(), out);
			} else {
				out.append(loop.getInitExpression() == null ? "" : expression(loop.getInitExpression())).append(';');
			}
			out.append(loop.getCondition() == null ? ";" : " " + expression(loop.getCondition()) + ";");
			out.append(loop.getUpdate() == null ? "" : " " + expression(loop.getUpdate())).append(')');
			printBody(loop.getBody(), out, depth);
		}
		case WhileStatement loop -> {
			out.append("while (").append(expression(loop.getCondition())).append(')');
			printBody(loop.getBody(), out, depth);
		}
		case DoStatement loop -> {
			out.append("do");
			printBody(loop.getBody(), out, depth);
			out.append(loop.getBody() instanceof CompoundStatement ? " " : "\n" + INDENT.repeat(depth));
			out.append("while (").append(expression(loop.getCondition())).append(");");
		}
		case SwitchStatement switchStatement -> {
			out.append("switch (").append(expression(switchStatement.getCondition())).append(')');
			printBody(switchStatement.getBody(), out, depth);
		}
		case CaseLabel label -> out.append("case ").append(expression(label.getValue())).append(':');
		case DefaultLabel label -> out.append("default:");
		case BreakStatement b -> out.append("break;");
		case ContinueStatement c -> out.append("continue;");
		case ReturnStatement r -> out.append(r.getValue() == null ? "return;" : "return " + expression(r.getValue()) + ";");
		case EmptyStatement e -> out.append(';');
		default -> throw unknown(statement);
		}
	}

	/** The body of if/for/while: a block on the same line, any other statement indented on the next. */
	private void printBody(Statement body, StringBuilder out, int depth) {
		if (body instanceof CompoundStatement block) {
			out.append(' ');
			printBlock(block, out, depth);
		} else {
			out.append('\n');
			printComments(body, out, depth + 1);
			if (body instanceof DirectiveStatement directive) {
				out.append(directive.getDirective().getText());
			} else {
				indent(out, depth + 1);
				printStatementBody(body, out, depth + 1);
			}
		}
	}

	// ------------------------------------------------------------------ expressions

	private String expressions(List<Expression> expressions) {
		StringBuilder out = new StringBuilder();
		for (int i = 0; i < expressions.size(); i++) {
			out.append(i > 0 ? ", " : "").append(expression(expressions.get(i)));
		}
		return out.toString();
	}

	/**
	 * The operand of a cast, parenthesized where the grammar needs it: {@code (T)x} with {@code T} a plain name
	 * reads as a cast only when a primary expression (or {@code !}, {@code ~}) follows, as in {@code (T)((float)x)}
	 * and {@code (T)(-x)}, while {@code (float)-x} needs no parentheses.
	 */
	private String castOperand(Cast cast) {
		String operand = expression(cast.getOperand());
		boolean plainName = cast.getType().getType() instanceof NamedType && cast.getType().getPointers().isEmpty();
		boolean primary = !(cast.getOperand() instanceof Cast || cast.getOperand() instanceof SizeOf
				|| cast.getOperand() instanceof Unary unary && !unary.getOp().equals("!") && !unary.getOp().equals("~"));
		return plainName && !primary ? "(" + operand + ")" : operand;
	}

	public String expression(Expression expression) {
		return switch (expression) {
		case IntLiteral literal -> literal.getValue();
		case FloatLiteral literal -> literal.getValue();
		case CharLiteral literal -> literal.getValue();
		case StringLiteral literal -> String.join(" ", literal.getValue());
		case BoolLiteral literal -> literal.getValue();
		case NullLiteral literal -> "nullptr";
		case Name name -> name.getName();
		case Parenthesized parenthesized -> "(" + expression(parenthesized.getExpression()) + ")";
		case Binary binary -> expression(binary.getLeft()) + " " + binary.getOp() + " " + expression(binary.getRight());
		case Assignment assignment -> expression(assignment.getLeft()) + " " + assignment.getOp() + " "
				+ expression(assignment.getRight());
		case Conditional conditional -> expression(conditional.getCondition()) + " ? "
				+ expression(conditional.getThen()) + " : " + expression(conditional.getElse());
		case CommaExpression comma -> expressions(comma.getExpressions());
		case Unary unary -> unary(unary);
		case Postfix postfix -> expression(postfix.getOperand()) + postfix.getOp();
		case Cast cast -> "(" + typeName(cast.getType()) + ")" + castOperand(cast);
		case CxxCast cast -> cast.getKind() + "<" + typeName(cast.getType()) + ">(" + expression(cast.getOperand())
				+ ")";
		case SizeOf sizeOf -> sizeOf.getType() != null ? "sizeof(" + typeName(sizeOf.getType()) + ")"
				: "sizeof " + expression(sizeOf.getOperand());
		case Index index -> expression(index.getTarget()) + "[" + expression(index.getIndex()) + "]";
		case Call call -> expression(call.getCallee()) + "(" + expressions(call.getArgs()) + ")";
		case TemplateId id -> id.getName() + "<" + templateArguments(id.getTemplateArgs()) + ">";
		case TemplateMember member -> member.getType() + "<" + templateArguments(member.getTemplateArgs()) + ">::"
				+ member.getMember();
		case TemplateCall call -> call.getFunction() + "<" + templateArguments(call.getTemplateArgs()) + ">("
				+ expressions(call.getArgs()) + ")";
		case KernelLaunch launch -> expression(launch.getKernel()) + "<<<" + expressions(launch.getConfig())
				+ ">>>(" + expressions(launch.getArgs()) + ")";
		case MemberAccess access -> expression(access.getTarget()) + (access.isArrow() ? "->" : ".")
				+ access.getMember();
		case BuiltinTypeConstruction construction -> construction.getType() + "("
				+ expressions(construction.getArgs()) + ")";
		default -> throw unknown(expression);
		};
	}

	private String unary(Unary unary) {
		String operand = expression(unary.getOperand());
		// keep `- -x` and `+ +x` apart from the `--`/`++` operators
		boolean clash = (unary.getOp().equals("-") || unary.getOp().equals("+")) && operand.startsWith(unary.getOp());
		return unary.getOp() + (clash ? " " : "") + operand;
	}

	// ------------------------------------------------------------------ layout helpers

	private static StringBuilder indent(StringBuilder out, int depth) {
		return out.append(INDENT.repeat(depth));
	}

	/** Comments written just before a declaration or statement travel with it. */
	private static void printComments(EObject element, StringBuilder out, int depth) {
		ICompositeNode node = NodeModelUtils.getNode(element);
		if (node == null) {
			return;
		}
		for (ILeafNode leaf : node.getLeafNodes()) {
			if (!leaf.isHidden()) {
				return;
			}
			String text = leaf.getText().strip();
			if (text.startsWith("//") || text.startsWith("/*")) {
				indent(out, depth).append(text).append('\n');
			}
		}
	}

	protected static IllegalArgumentException unknown(EObject element) {
		return new IllegalArgumentException("the printer has no rule for " + element.eClass().getName());
	}
}
